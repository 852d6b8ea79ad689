#!/usr/bin/python3
"""dsmoe serve's chat page in headless Chromium (Debian's chromium, driven by npm's puppeteer-core): a real
conversation typed into the page, a reply stopped with the Stop button, and a screenshot. The oracle for every
reply the page shows is the server's own non-streamed answer to the messages the page sent (greedy, so one text);
check_server.py checks that answer against the CLI and the NumPy reference.

Usage: /usr/bin/python3 tests/server/check_page.py --install-puppeteer PREFIX
       /usr/bin/python3 tests/server/check_page.py --dsmoe BIN --puppeteer PREFIX [--screenshot PNG]
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_server import ROOT, Server, check, metric, results  # noqa: E402

PUPPETEER_VERSION = "24.43.1"  # the last line that runs on Node 20 (Debian 12's and CI's)
MODEL_1K = os.path.join(ROOT, "models", "dsmoe-kjv-9m-1k")
CHROMIUM = "/usr/bin/chromium"


def install_puppeteer(prefix):
    package = os.path.join(prefix, "node_modules", "puppeteer-core", "package.json")
    if os.path.exists(package) and json.load(open(package))["version"] == PUPPETEER_VERSION:
        print(f"puppeteer-core {PUPPETEER_VERSION} already under {prefix}")
        return 0
    os.makedirs(prefix, exist_ok=True)
    run = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix,
                          f"puppeteer-core@{PUPPETEER_VERSION}"])
    if run.returncode != 0 or not os.path.exists(package):
        print("FAILED: npm install puppeteer-core did not complete; is the npm registry reachable?", file=sys.stderr)
        return 1
    return 0


def greedy_answer(server, messages, max_tokens):
    """What the page must have shown: the same request, not streamed, with the page's settings."""
    status, body, _ = server.request("POST", "/v1/chat/completions", {
        "messages": messages, "temperature": 0, "top_p": 0.95, "top_k": 40, "max_tokens": max_tokens, "seed": 5})
    assert status == 200, body
    return body["choices"][0]["message"]["content"], body["usage"]["completion_tokens"], \
        body["choices"][0]["finish_reason"]


def check_turn(server, name, turn, messages, max_tokens):
    text, tokens, finish = greedy_answer(server, messages, max_tokens)
    check(f"{name}: the page shows the server's answer word for word", turn["reply"] == text,
          f"page {turn['reply']!r}, API {text!r}")
    stats = turn["stats"]
    check(f"{name}: tokens, tokens/s and the finish reason are shown",
          stats.startswith(f"{tokens} tokens, ") and " tokens/s" in stats and stats.endswith(f"· {finish}"), stats)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


def check_page(binary, prefix, screenshot):
    if not os.path.exists(CHROMIUM):
        check("Debian's chromium is installed (scripts/install-deps installs it)", False, CHROMIUM)
        return
    # The context-extended model with a 1024-token slot: an unlimited reply runs ~900 tokens, long enough for the
    # Stop button to land in it.
    server = Server(binary, "-m", MODEL_1K, "-c", "1024", "--parallel", "2")
    try:
        client = os.path.join(prefix, "page_client.mjs")  # an ES module finds node_modules beside it
        shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "page_client.mjs"), client)
        run = subprocess.run(["node", client, f"http://127.0.0.1:{server.port}/", CHROMIUM, screenshot],
                             capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            check("the page client ran", False, f"exit {run.returncode}\n{run.stdout}\n{run.stderr}")
            return
        page = json.loads(run.stdout.strip().splitlines()[-1])
        check("the page loads, names the model and its slot context, and raises no script error",
              page["model_line"] == "dsmoe-kjv-9m-1k · 1024 tokens a slot" and not page["page_errors"],
              f"{page['model_line']!r} {page['page_errors']}")
        check("nothing is fetched from anywhere but the server", not page["requests_elsewhere"],
              page["requests_elsewhere"])

        first, second = page["turns"]
        messages = [{"role": "user", "content": first["message"]}]
        check_turn(server, "first message", first, messages, 16)
        messages += [{"role": "assistant", "content": first["reply"]}, {"role": "user", "content": second["message"]}]
        check_turn(server, "second message (the first turn in its history)", second, messages, 16)

        attempts = page["stop_attempts"]
        stopped = attempts[-1]
        check("the Stop button stops a streaming reply, and Send comes back",
              stopped["stop_visible"] and stopped["stats"].endswith("· stopped") and stopped["send_visible_after"]
              and stopped["reply"].startswith(stopped["text_at_click"] or "\0"),
              attempts)
        deadline = time.time() + 10
        while metric(server, "dsmoe_slots_busy") != 0 and time.time() < deadline:
            time.sleep(0.1)
        check("the stopped reply's slot is free again", metric(server, "dsmoe_slots_busy") == 0)

        history = page["history"]
        after = page["after_stop"]
        # A reply that ended before the click filled the context, and the page started a new conversation.
        earlier = [] if page["cleared"] else [first["message"], first["reply"], second["message"], second["reply"]]
        check("the page's history holds every turn, the stopped reply as far as it got",
              [m["content"] for m in history] == earlier + [stopped["message"], stopped["reply"], "Amen",
                                                            after["reply"]], history)
        check_turn(server, "a message after the stop", after, history[:-1], 12)
        size = png_size(screenshot)
        check("a screenshot of the conversation", size == (1180, 780), f"{screenshot}: {size}")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe")
    parser.add_argument("--install-puppeteer", metavar="PREFIX")
    parser.add_argument("--puppeteer", metavar="PREFIX", help="puppeteer-core installed under PREFIX")
    parser.add_argument("--screenshot", help="where the PNG goes (default: PREFIX/chat_page.png)")
    args = parser.parse_args()
    if args.install_puppeteer:
        sys.exit(install_puppeteer(args.install_puppeteer))
    check_page(args.dsmoe, args.puppeteer, args.screenshot or os.path.join(args.puppeteer, "chat_page.png"))
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
