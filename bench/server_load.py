#!/usr/bin/python3
"""Load on dsmoe serve (a benchmark, not a test): C concurrent clients, each sending streaming chat requests one
after another for --seconds, over loopback. Reports requests/s, generated tokens/s in total and per stream, time to
first token and inter-token latency (p50, p99), errors, and the server's resident memory before and after.

  /usr/bin/python3 bench/server_load.py --dsmoe build/dsmoe --clients 1,4,16 --seconds 60 [--markdown FILE]
  /usr/bin/python3 bench/server_load.py ... --gguf MODEL.gguf --llama-server PATH/llama-server

The server runs the shipped model (or --gguf) with --parallel equal to the largest client count, so every stream
has a slot; each request asks for exactly --max-tokens tokens (ignore_eos) of a short prompt drawn from a fixed
list, sampled with the shipped model's generation_config.json settings and a seed per request. With
--llama-server, llama.cpp's server runs the same GGUF file with the same slots, threads and per-slot context, and
the two take turns at each level in one sitting (this machine's speed drifts, so only side-by-side ratios hold).
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "models", "dsmoe-kjv-9m")
# The shipped model's generation_config.json (temperature, top_p, repetition_penalty) with llama.cpp's top_k and
# min_p, spelled out so that both servers sample alike.
SAMPLING = {"temperature": 0.7, "top_p": 0.95, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1}
PROMPTS = ["In the beginning", "And God said", "Who was Moses?", "Tell me of Noah", "Let there be light",
           "What is a covenant?", "And the LORD spake", "Sing a psalm", "Where is Jerusalem?", "Blessed are they"]


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def one_request(port, index, max_tokens, record):
    body = json.dumps({"messages": [{"role": "user", "content": PROMPTS[index % len(PROMPTS)]}], "stream": True,
                       "max_tokens": max_tokens, "seed": index, "stream_options": {"include_usage": True},
                       "ignore_eos": True, **SAMPLING})
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
                    if data.get("choices") and data["choices"][0]["delta"].get("content"):
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


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """A server started on a free loopback port and waited for until /health answers 200."""

    def __init__(self, name, command):
        self.name = name
        self.port = free_port()
        self.process = subprocess.Popen(command + ["--port", str(self.port)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{name} exited with {self.process.returncode}: {' '.join(command)}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        self.rss_before_mib = resident_kib(self.process.pid) / 1024

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def table(rows):
    lines = ["| server | clients | requests/s | tokens/s (total) | tokens/s per stream | TTFT p50 / p99 (ms) | "
             "inter-token p50 / p99 (ms) | errors | resident before / after (MiB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['server']} | {r['clients']} | {r['requests_per_s']:.2f} | {r['tokens_per_s']:.0f} | "
                     f"{r['tokens_per_s_per_stream']:.0f} | {r['ttft_p50_ms']:.1f} / {r['ttft_p99_ms']:.1f} | "
                     f"{r['itl_p50_ms']:.2f} / {r['itl_p99_ms']:.2f} | {r['errors']} | "
                     f"{r['rss_before_mib']:.0f} / {r['rss_after_mib']:.0f} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsmoe", default=os.path.join(ROOT, "build", "dsmoe"))
    parser.add_argument("--gguf", help="serve this GGUF file (both servers) instead of the shipped HF folder")
    parser.add_argument("--llama-server", help="llama.cpp's llama-server, to measure beside dsmoe")
    parser.add_argument("--llama-args", default="", help="more llama-server flags, e.g. '--cache-ram 0'")
    parser.add_argument("--ctx", type=int, default=256, help="context of one slot")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--markdown", help="write the table to this file")
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    slots = max(levels)
    model = args.gguf or MODEL
    servers = [ServerProcess("dsmoe", [args.dsmoe, "serve", "-m", model, "-t", args.threads, "--parallel",
                                       str(slots), "-c", str(args.ctx), "--log-disable"])]
    if args.llama_server:
        # llama.cpp's -c is the whole cache, shared out among the -np slots; its webui and the unified cache off so
        # that each slot has its own context of --ctx tokens, as dsmoe's slots do.
        servers.append(ServerProcess("llama.cpp", [args.llama_server, "-m", model, "-t", args.threads, "-tb",
                                                   args.threads, "-np", str(slots), "-c", str(args.ctx * slots),
                                                   "--no-kv-unified", "--no-webui", "--log-disable"]
                                      + args.llama_args.split()))
    rows = []
    try:
        for clients in levels:
            for server in servers:
                row = run_level(server.port, clients, args.seconds, args.max_tokens)
                row.update(server=server.name, rss_before_mib=server.rss_before_mib,
                           rss_after_mib=resident_kib(server.process.pid) / 1024)
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        for server in servers:
            server.stop()
    text = (f"{os.path.basename(model.rstrip('/'))}, {args.threads} threads, {slots} slots of {args.ctx} tokens, "
            f"{args.seconds:.0f} s per level and server, {args.max_tokens} tokens a request, loopback.\n\n"
            + table(rows))
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
