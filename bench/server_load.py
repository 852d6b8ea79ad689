#!/usr/bin/python3
"""Load on dsmoe serve (a benchmark, not a test): C concurrent clients, each sending streaming chat requests one
after another for --seconds, over loopback. Reports requests/s, generated tokens/s in total and per stream, time to
first token and inter-token latency (p50, p99), errors, and the server's resident memory before and after.

  /usr/bin/python3 bench/server_load.py --dsmoe build/dsmoe --clients 1,4,16 --seconds 60 [--markdown FILE]

The server runs the shipped model with --parallel equal to the largest client count, so every stream has a slot;
each request asks for up to --max-tokens tokens of a short prompt drawn from a fixed list (seeded per request).
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPTS = ["In the beginning", "And God said", "Who was Moses?", "Tell me of Noah", "Let there be light",
           "What is a covenant?", "And the LORD spake", "Sing a psalm", "Where is Jerusalem?", "Blessed are they"]


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def one_request(port, index, max_tokens, record):
    body = json.dumps({"messages": [{"role": "user", "content": PROMPTS[index % len(PROMPTS)]}], "stream": True,
                       "max_tokens": max_tokens, "seed": index, "stream_options": {"include_usage": True}})
    start = time.perf_counter()
    stamps, tokens, ok = [], 0, False
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status == 200:
            buffer = b""
            while chunk := response.read1(65536):
                buffer += chunk
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    if event == b"data: [DONE]":
                        ok = True
                        continue
                    data = json.loads(event[6:])
                    if data.get("usage"):
                        tokens = data["usage"]["completion_tokens"]
                    if data["choices"] and data["choices"][0]["delta"].get("content"):
                        stamps.append(time.perf_counter())
        connection.close()
    except OSError:
        ok = False
    record(ok, start, stamps, tokens)


def run_level(port, clients, seconds, max_tokens):
    lock = threading.Lock()
    done = {"requests": 0, "errors": 0, "tokens": 0, "ttft": [], "itl": []}
    deadline = time.perf_counter() + seconds
    counter = iter(range(10 ** 9))

    def record(ok, start, stamps, tokens):
        with lock:
            if not ok or not stamps:
                done["errors"] += 1
                return
            done["requests"] += 1
            done["tokens"] += tokens
            done["ttft"].append(stamps[0] - start)
            done["itl"] += [b - a for a, b in zip(stamps, stamps[1:])]

    def client():
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter)
            one_request(port, index, max_tokens, record)

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    pct = lambda xs, q: statistics.quantiles(xs, n=100)[q - 1] * 1e3 if len(xs) >= 2 else float("nan")
    return {"clients": clients, "seconds": elapsed, "requests_per_s": done["requests"] / elapsed,
            "tokens_per_s": done["tokens"] / elapsed, "tokens_per_s_per_stream": done["tokens"] / elapsed / clients,
            "ttft_p50_ms": pct(done["ttft"], 50), "ttft_p99_ms": pct(done["ttft"], 99),
            "itl_p50_ms": pct(done["itl"], 50), "itl_p99_ms": pct(done["itl"], 99), "errors": done["errors"],
            "requests": done["requests"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsmoe", default=os.path.join(ROOT, "build", "dsmoe"))
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--markdown", help="write the table to this file")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    server = subprocess.Popen([args.dsmoe, "serve", "--port", "0", "-t", args.threads, "--parallel", str(max(levels)),
                               "--log-disable"], stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        match = re.search(r"on http://[^:]+:(\d+)", line)
        if match:
            port = int(match.group(1))
            break
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()
    rss_before = resident_kib(server.pid)
    rows = []
    try:
        for clients in levels:
            row = run_level(port, clients, args.seconds, args.max_tokens)
            row["rss_after_mib"] = resident_kib(server.pid) / 1024
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    lines = [f"Shipped model, {args.threads} threads, --parallel {max(levels)}, {args.seconds:.0f} s per level, "
             f"max_tokens {args.max_tokens}, loopback; server resident memory before: {rss_before / 1024:.0f} MiB.",
             "",
             "| clients | requests/s | tokens/s (total) | tokens/s per stream | TTFT p50 / p99 (ms) | "
             "inter-token p50 / p99 (ms) | errors | resident after (MiB) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['clients']} | {r['requests_per_s']:.2f} | {r['tokens_per_s']:.0f} | "
                     f"{r['tokens_per_s_per_stream']:.0f} | {r['ttft_p50_ms']:.1f} / {r['ttft_p99_ms']:.1f} | "
                     f"{r['itl_p50_ms']:.2f} / {r['itl_p99_ms']:.2f} | {r['errors']} | {r['rss_after_mib']:.0f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)


if __name__ == "__main__":
    main()
