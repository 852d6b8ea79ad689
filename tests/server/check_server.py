#!/usr/bin/python3
"""dsmoe serve over real HTTP on a loopback port, with the shipped model. Oracles: the CLI's own generation
(`dsmoe run --temp 0`, itself checked against the NumPy reference) for greedy answers, NumPy's log-softmax of
`dsmoe logits` for the log probabilities, and each request run alone for the same request under load.

Usage: /usr/bin/python3 tests/server/check_server.py --dsmoe BIN
       /usr/bin/python3 tests/server/check_server.py --install-openai PREFIX     (npm's `openai`, pinned)
       /usr/bin/python3 tests/server/check_server.py --dsmoe BIN --openai PREFIX (that package as the client)
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok or not detail else f"\n     {detail}"), flush=True)


class Server:
    def __init__(self, binary, *args):
        self.process = subprocess.Popen([binary, "serve", "--port", "0", "-t", "1", *args], stderr=subprocess.PIPE,
                                        text=True)
        seen = ""
        for line in self.process.stderr:  # warnings (a context past training) may come before the address
            seen += line
            match = re.search(r"dsmoe serve: .* on http://[^:]+:(\d+)", line)
            if match:
                break
        else:
            raise SystemExit(f"FAIL dsmoe serve did not start:\n{seen}")
        self.port = int(match.group(1))
        # Keep reading stderr so that the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.process.stderr], daemon=True).start()

    def request(self, method, path, body=None, headers=None, raw=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        try:
            return response.status, json.loads(text), response
        except json.JSONDecodeError:
            return response.status, text, response

    def stream(self, path, body):
        """The events of a streamed answer, as parsed JSON, and whether it ended with [DONE]."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("POST", path, body=json.dumps({**body, "stream": True}),
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        events, done = [], False
        for line in response.read().decode().split("\n"):
            if line == "data: [DONE]":
                done = True
            elif line.startswith("data: "):
                events.append(json.loads(line[6:]))
        connection.close()
        return response.status, events, done

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def chat_body(text, **extra):
    return {"model": "dsmoe-kjv-9m", "messages": [{"role": "user", "content": text}], **extra}


def cli_greedy(binary, prompt, n):
    run = subprocess.run([binary, "run", "-m", MODEL, "-p", prompt, "--temp", "0", "--repeat-penalty", "1", "-n",
                          str(n), "--no-display-prompt", "--log-disable", "-t", "1"], capture_output=True, text=True)
    return run.stdout.removesuffix("\n")


def check_basics(binary, server):
    status, body, _ = server.request("GET", "/health")
    check("/health answers ok", status == 200 and body == {"status": "ok"}, body)
    status, page, response = server.request("GET", "/")
    page = page if isinstance(page, str) else json.dumps(page)
    check("/ serves the chat page, self-contained (nothing fetched from another host)",
          status == 200 and response.getheader("Content-Type").startswith("text/html") and "<title>dsmoe chat" in page
          and not re.search(r"(src|href)=[\"']?(https?:)?//", page) and "/v1/chat/completions" in page, page[:200])
    status, body, _ = server.request("GET", "/v1/models")
    check("/v1/models lists the model", status == 200 and body["object"] == "list" and
          body["data"][0]["id"] == "dsmoe-kjv-9m", body)
    text = "In the beginning God created the heaven and the earth."
    status, body, _ = server.request("POST", "/tokenize", {"content": text, "add_special": True})
    cli = subprocess.run([binary, "tokenize", "-m", MODEL, "-p", text, "--special"], capture_output=True, text=True)
    expected = [int(t) for t in re.findall(r"\d+", cli.stdout)]
    check("/tokenize gives `dsmoe tokenize`'s ids", status == 200 and body["tokens"] == expected,
          f"{body} vs {expected}")
    status, back, _ = server.request("POST", "/detokenize", {"tokens": body["tokens"][1:]})
    check("/detokenize gives the text back", status == 200 and back["content"] == text, back)

    for prompt in ["And God said", "The LORD is my shepherd"]:
        status, body, _ = server.request("POST", "/v1/completions",
                                         {"prompt": prompt, "max_tokens": 16, "temperature": 0, "repeat_penalty": 1})
        expected = cli_greedy(binary, prompt, 16)
        check(f"a greedy completion is `dsmoe run --temp 0`'s text for {prompt!r}",
              status == 200 and body["choices"][0]["text"] == expected and body["object"] == "text_completion" and
              body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 16,
              f"{body} vs {expected!r}")

    request = chat_body("In the beginning", max_tokens=24, seed=5)
    status, whole, _ = server.request("POST", "/v1/chat/completions", request)
    status_s, events, done = server.stream("/v1/chat/completions", request)
    streamed = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    check("a chat completion has OpenAI's shape", status == 200 and whole["object"] == "chat.completion" and
          whole["choices"][0]["message"]["role"] == "assistant" and whole["usage"]["total_tokens"] ==
          whole["usage"]["prompt_tokens"] + whole["usage"]["completion_tokens"], whole)
    check("streamed chunks add up to the same answer (same seed) and end with [DONE]",
          status_s == 200 and done and streamed == whole["choices"][0]["message"]["content"] and
          events[0]["choices"][0]["delta"].get("role") == "assistant" and
          events[-1]["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"] and
          all(e["object"] == "chat.completion.chunk" for e in events), f"{streamed!r} vs {whole}")
    _, events, done = server.stream("/v1/chat/completions", {**request, "stream_options": {"include_usage": True}})
    check("include_usage ends with a usage chunk with no choices", done and events[-1]["choices"] == [] and
          events[-1]["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"], events[-1])
    # OpenAI streams a chunk a token; tokens that arrive together still go out as chunks of their own (this
    # model's tokens are whole ASCII words or pieces, so none is held back as a partial character).
    pieces = [e for e in events if e["choices"] and e["choices"][0]["delta"].get("content")]
    check("a streamed chunk carries one token", len(pieces) == whole["usage"]["completion_tokens"],
          f"{len(pieces)} chunks with content for {whole['usage']['completion_tokens']} tokens")


def check_logprobs(binary, server):
    prompt = "And the earth was without form"
    status, body, _ = server.request("POST", "/v1/completions", {"prompt": prompt, "max_tokens": 6, "temperature": 0,
                                                                 "logprobs": 3})
    columns = body["choices"][0]["logprobs"]
    ids = server.request("POST", "/tokenize", {"content": prompt, "add_special": True})[1]["tokens"]
    generated = []
    for piece in columns["tokens"]:
        generated += server.request("POST", "/tokenize", {"content": piece})[1]["tokens"]
    with tempfile.TemporaryDirectory() as out:
        sequence = ids + generated
        subprocess.run([binary, "logits", "-m", MODEL, "--ids", ",".join(map(str, sequence)), "--out", out, "-t", "1",
                        "--cache-type", "f16"], check=True, capture_output=True)
        logits = np.load(os.path.join(out, "logits.npy"))[0].astype(np.float64)
    rows = logits[len(ids) - 1:len(sequence) - 1]
    log_softmax = rows - rows.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    want = [float(log_softmax[i, t]) for i, t in enumerate(generated)]
    got = columns["token_logprobs"]
    check("completions' logprobs are NumPy's log-softmax of `dsmoe logits` (within 1e-3)",
          len(generated) == len(got) and np.allclose(got, want, atol=1e-3), f"{got} vs {want}")
    check("top_logprobs hold 3 entries, the greedy token the likeliest",
          all(len(t) == 3 and max(t.values()) == pytest_max(t, v) for t, v in zip(columns["top_logprobs"], got)),
          columns["top_logprobs"])
    status, body, _ = server.request("POST", "/v1/chat/completions", chat_body("Amen", max_tokens=5, logprobs=True))
    content = body["choices"][0]["logprobs"]["content"] if status == 200 else None
    check("chat's logprobs: true without top_logprobs gives each token's logprob and no alternatives",
          content is not None and len(content) >= 1 and all(c["top_logprobs"] == [] and c["logprob"] <= 0 and
                                                            bytes(c["bytes"]).decode(errors="replace") == c["token"]
                                                            for c in content), body)


def pytest_max(top, value):
    return value if abs(max(top.values()) - value) < 1e-6 else None


def check_errors(binary, server):
    status, body, _ = server.request("POST", "/v1/chat/completions", raw="{not json")
    check("malformed JSON is 400 with OpenAI's error object", status == 400 and body["error"]["type"] ==
          "invalid_request_error", body)
    for field, value in [("temperature", 3), ("top_p", "x"), ("max_tokens", 0), ("n", 2), ("top_logprobs", 3),
                         ("stop", ["a", "b", "c", "d", "e"]), ("stream_options", {"include_usage": True})]:
        status, body, _ = server.request("POST", "/v1/chat/completions", chat_body("hi", **{field: value}))
        check(f"a bad {field} is 400 naming it", status == 400 and body["error"]["param"] == field, body)
    status, body, _ = server.request("POST", "/v1/chat/completions", {"messages": [{"role": "king", "content": "x"}]})
    check("a bad role is 400 naming the message", status == 400 and body["error"]["param"] == "messages[0].role", body)
    status, body, _ = server.request("GET", "/v1/nothing")
    check("an unknown route is 404 with an error object", status == 404 and "error" in body, body)
    status, body, _ = server.request("POST", "/v1/completions", {"prompt": "And God said " * 800})
    check("a prompt longer than the context is 413", status == 413 and
          body["error"]["code"] == "context_length_exceeded", body)


def check_concurrency(binary, server):
    bodies = [chat_body(text, max_tokens=40, seed=11 + i) for i, text in
              enumerate(["In the beginning", "And God said", "Who was Moses?", "Let there be light"])]
    alone = [server.request("POST", "/v1/chat/completions", b)[1]["choices"][0]["message"]["content"] for b in bodies]
    together = [None] * len(bodies)

    def stream(i):
        _, events, _ = server.stream("/v1/chat/completions", bodies[i])
        together[i] = "".join(e["choices"][0]["delta"].get("content", "") for e in events)

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("four concurrent streams give each the text it gets alone (same seeds)", together == alone,
          f"{together} vs {alone}")

    first = chat_body("In the beginning", max_tokens=12, seed=1)
    _, answer, _ = server.request("POST", "/v1/chat/completions", first)
    follow = {**first, "messages": first["messages"] + [answer["choices"][0]["message"],
                                                         {"role": "user", "content": "And then?"}]}
    _, second, _ = server.request("POST", "/v1/chat/completions", follow)
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    check("a follow-up turn reuses the cached prefix of the first turn", cached >= answer["usage"]["prompt_tokens"],
          f"cached {cached}, first prompt {answer['usage']['prompt_tokens']}")


def metric(server, name):
    _, text, _ = server.request("GET", "/metrics")
    match = re.search(rf"^{name} (\d+)$", text, re.M)
    return int(match.group(1)) if match else None


def raw_stream(port, body, events):
    """A streaming request on a bare socket (so that the test can drop it), read until `events` events came."""
    sock = socket.create_connection(("127.0.0.1", port))
    data = json.dumps({**body, "stream": True})
    sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(data)}\r\n\r\n{data}".encode())
    received = b""
    while received.count(b"data: ") < events:
        received += sock.recv(4096)
    return sock, received


def check_disconnect(binary, server):
    before = metric(server, "dsmoe_jobs_finished_total")
    generated_before = metric(server, "dsmoe_generated_tokens_total")
    sock, _ = raw_stream(server.port, chat_body("In the beginning", max_tokens=1000, seed=3, ignore_eos=True), 3)
    sock.close()
    deadline, busy = time.time() + 10, None
    while time.time() < deadline:
        busy = metric(server, "dsmoe_slots_busy")
        if busy == 0 and metric(server, "dsmoe_jobs_finished_total") == before + 1:
            break
        time.sleep(0.01)
    generated = metric(server, "dsmoe_generated_tokens_total") - generated_before
    check("a client that disconnects mid-stream frees its slot before its answer is done", busy == 0 and
          generated < 1000, f"busy {busy}, {generated} of 1000 tokens generated")
    _, text, _ = server.request("GET", "/metrics")
    check("/metrics is Prometheus text with requests, tokens, queue and slots",
          all(n in text for n in ["dsmoe_requests_total{route=", "dsmoe_generated_tokens_total",
                                  "dsmoe_queue_length", "dsmoe_slots_total 4"]), text[:400])


def check_key_and_queue(binary):
    server = Server(binary, "--api-key", "sesame", "--parallel", "1", "--queue", "0", "-c", "4096")
    status, body, _ = server.request("GET", "/v1/models")
    check("without the key: 401", status == 401 and body["error"]["code"] == "invalid_api_key", body)
    status, body, _ = server.request("GET", "/v1/models", headers={"Authorization": "Bearer sesamE"})
    check("a wrong key: 401", status == 401, body)
    status, _, _ = server.request("GET", "/health")
    check("/health needs no key", status == 200)
    key = {"Authorization": "Bearer sesame"}
    status, body, _ = server.request("GET", "/v1/models", headers=key)
    check("the right key: 200", status == 200, body)

    long = json.dumps(chat_body("In the beginning", max_tokens=3000, seed=2, ignore_eos=True))
    busy = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    busy.request("POST", "/v1/chat/completions", body=long, headers={**key, "Content-Type": "application/json"})
    deadline = time.time() + 10
    while time.time() < deadline:
        _, text, _ = server.request("GET", "/metrics", headers=key)
        if "dsmoe_slots_busy 1" in text:
            break
        time.sleep(0.01)
    status, body, response = server.request("POST", "/v1/chat/completions", chat_body("x", max_tokens=2),
                                            headers=key)
    check("the only slot busy and no queue: 503 with Retry-After", status == 503 and
          response.getheader("Retry-After") is not None, f"{status} {body}")
    busy.getresponse().read()
    code = server.stop()
    check("SIGTERM stops the server with exit 0", code == 0, f"exit {code}")


def check_shutdown_mid_stream(binary):
    server = Server(binary, "-c", "4096")
    sock, received = raw_stream(server.port, chat_body("In the beginning", max_tokens=4000, seed=4, ignore_eos=True), 2)
    server.process.send_signal(signal.SIGINT)
    sock.settimeout(30)
    try:
        while chunk := sock.recv(4096):
            received += chunk
    except OSError:
        pass
    code = server.process.wait(timeout=60)
    check("SIGINT mid-stream ends the stream with [DONE] and exits 0", code == 0 and b"data: [DONE]" in received,
          f"exit {code}: {received[-300:]!r}")


OPENAI_VERSION = "6.49.0"  # the last line without a Node >= 22 requirement (Debian 12 and CI run Node 20)


def install_openai(prefix):
    package = os.path.join(prefix, "node_modules", "openai", "package.json")
    if os.path.exists(package) and json.load(open(package))["version"] == OPENAI_VERSION:
        print(f"openai {OPENAI_VERSION} already under {prefix}")
        return 0
    os.makedirs(prefix, exist_ok=True)
    run = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", prefix, f"openai@{OPENAI_VERSION}"])
    if run.returncode != 0 or not os.path.exists(package):
        print("FAILED: npm install openai did not complete; is the npm registry reachable?", file=sys.stderr)
        return 1
    return 0


def check_openai_sdk(binary, prefix):
    server = Server(binary, "--api-key", "sdk-key")
    try:
        # An ES module finds packages in node_modules beside it, so the client runs from a copy under the prefix.
        client = os.path.join(prefix, "openai_client.mjs")
        shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai_client.mjs"), client)
        run = subprocess.run(["node", client, f"http://127.0.0.1:{server.port}/v1", "sdk-key"], capture_output=True,
                             text=True, timeout=300)
        print(run.stdout + run.stderr, end="")
        check("the openai npm package talks to dsmoe serve", run.returncode == 0, f"exit {run.returncode}")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsmoe")
    parser.add_argument("--install-openai", metavar="PREFIX")
    parser.add_argument("--openai", metavar="PREFIX", help="run the openai npm client installed under PREFIX")
    args = parser.parse_args()
    if args.install_openai:
        sys.exit(install_openai(args.install_openai))
    binary = args.dsmoe
    if args.openai:
        check_openai_sdk(binary, args.openai)
        print(f"{results['passed']} passed, {results['failed']} failed")
        sys.exit(1 if results["failed"] else 0)
    server = Server(binary, "--parallel", "4", "-c", "1024")
    try:
        check_basics(binary, server)
        check_logprobs(binary, server)
        check_errors(binary, server)
        check_concurrency(binary, server)
        check_disconnect(binary, server)
    finally:
        code = server.stop()
    check_key_and_queue(binary)
    check_shutdown_mid_stream(binary)
    print(f"{results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
