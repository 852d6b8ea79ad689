#!/usr/bin/python3
"""One sitting of speed measurements, written as docs/performance.md (issue 13, item 7). This script owns that page.

    /usr/bin/python3 tools/lab/performance.py --models-dir /work/big          # the 16B sitting (hours)
    /usr/bin/python3 tools/lab/performance.py --quick                         # the pipeline on the 9M model (~1 min)

For every GGUF file (by default the random-weight deepseek-moe-16b at q8_0, q4_0 and q4_k_m, made with
`dsmoe make-model --config configs/deepseek-moe-16b-base.json --type T --format gguf --seed 1` when missing, looked
for in --models-dir as ds16b-<type>.gguf or ds16b-<type without underscores>.gguf), it runs, alternately for
--rounds rounds, `dsmoe bench -m FILE -p P -n N -r R -t T -o json` and llama.cpp's libraries driven by
tests/peers/llama_driver.c (`llama_driver bench FILE -p P -n N -r R --threads T`), each under /usr/bin/time -v for
its peak resident memory. tools/bench/read_bandwidth measures the machine's read bandwidth (huge and small pages)
before and after. The decode floor is the bytes of weights one decoded token reads (every tensor but the routed
experts, plus num_experts_per_tok / n_routed_experts of each stacked expert tensor, plus one embedding row), read
from the GGUF's tensor list with llama.cpp's gguf-py, divided by the best bandwidth of the sitting.

Results go to WORK/results.json, one entry per run, so an interrupted sitting continues where it stopped (--fresh
starts over). --quick converts models/dsmoe-kjv-9m to an F32 GGUF in WORK, uses -p 64 -n 16 -r 2 and a small
bandwidth buffer, and writes WORK/performance-quick.md unless --out says otherwise.

Needs Debian's /usr/bin/python3 (numpy, for gguf-py), cmake and a C++ compiler (read_bandwidth), cc (the driver),
npm only when the llama.cpp peer is not installed yet (tests/peers/llama_cpp_peer.py).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "peers"))
import llama_cpp_peer  # noqa: E402
import llama_driver  # noqa: E402

TYPES = ["q8_0", "q4_0", "q4_k_m"]
SMALL_P, SMALL_N = 256, 128  # the shipped model's tests (issue 13's targets)
CONFIG_16B = os.path.join(ROOT, "configs", "deepseek-moe-16b-base.json")


def log(*parts):
    print("performance:", *parts, file=sys.stderr, flush=True)


def run(cmd, **kw):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if result.returncode != 0:
        raise SystemExit(f"performance: failed ({result.returncode}): {' '.join(map(str, cmd))}\n"
                         f"{result.stderr[-3000:]}")
    return result


# ---------- tools ----------

def build_read_bandwidth(work):
    build = os.path.join(work, "read_bandwidth-build")
    run(["cmake", "-S", os.path.join(ROOT, "tools", "bench"), "-B", build, "-DCMAKE_BUILD_TYPE=Release"])
    run(["cmake", "--build", build, "--target", "read_bandwidth"])
    return os.path.join(build, "read_bandwidth")


def find_peer(args):
    candidates = [args.peer] if args.peer else [os.path.join(os.path.dirname(args.dsmoe), "llama_cpp_peer"),
                                               os.path.join(ROOT, "build", "llama_cpp_peer")]
    for peer in candidates:
        if os.path.exists(os.path.join(peer, "include", "llama.h")):
            return os.path.abspath(peer)
    peer = candidates[0]
    log(f"installing the llama.cpp peer into {peer} (npm)")
    run([sys.executable, os.path.join(ROOT, "tests", "peers", "llama_cpp_peer.py"), "install", "--dir", peer])
    return os.path.abspath(peer)


def timed(cmd, work, **kw):
    """Runs cmd under /usr/bin/time -v; returns (stdout, stderr, peak RSS bytes, wall seconds)."""
    report = os.path.join(work, "time-v.txt")
    result = run(["/usr/bin/time", "-v", "-o", report] + list(cmd), **kw)
    peak = wall = None
    with open(report) as f:
        for line in f:
            key, _, value = line.strip().rpartition(": ")
            if key == "Maximum resident set size (kbytes)":
                peak = int(value) * 1024
            elif key.startswith("Elapsed (wall clock) time"):
                parts = [float(p) for p in value.split(":")]
                wall = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
    return result.stdout, result.stderr, peak, wall


class Peer:
    def __init__(self, peer_dir):
        self.dir = peer_dir
        self.binary = llama_driver.build_driver(peer_dir)
        self.lib = os.path.join(peer_dir, "lib")
        self.cwd = os.path.join(peer_dir, "driver", "cwd")  # empty: no other ggml library is picked up
        os.makedirs(self.cwd, exist_ok=True)
        self.env = dict(os.environ, LD_LIBRARY_PATH=self.lib)
        self.env.pop("GGML_BACKEND_PATH", None)

    def command(self, *args):
        return [self.binary, "--lib-dir", self.lib] + [str(a) for a in args]


# ---------- models ----------

def ensure_models(args, work):
    if args.gguf:
        return [os.path.abspath(g) for g in args.gguf]
    if args.quick:
        out = os.path.join(work, "dsmoe-kjv-9m-f32.gguf")
        if not os.path.exists(out):
            run([args.dsmoe, "convert", os.path.join(ROOT, "models", "dsmoe-kjv-9m"), out, "--type", "f32"])
        return [out]
    files = []
    os.makedirs(args.models_dir, exist_ok=True)
    for t in args.types.split(","):
        names = [f"ds16b-{t}.gguf", f"ds16b-{t.replace('_', '')}.gguf"]
        found = [os.path.join(args.models_dir, n) for n in names if os.path.exists(os.path.join(args.models_dir, n))]
        if found:
            files.append(found[0])
            continue
        out = os.path.join(args.models_dir, names[0])
        log(f"making {out} (random weights, seed 1; about 20 minutes per file on 2 cores)")
        run([args.dsmoe, "make-model", "--config", CONFIG_16B, "--type", t, "--format", "gguf", "--seed", "1",
             "--out", out])
        files.append(out)
    return files


def weight_bytes(path, gguf):
    """Bytes of all weights in the file, and the bytes one decoded token reads (the decode floor's numerator)."""
    reader = gguf.GGUFReader(path)

    def field(key, default=None):
        f = reader.fields.get(key)
        return default if f is None else f.contents()

    arch = field("general.architecture")
    top_k = int(field(f"{arch}.expert_used_count", 0))
    total = per_token = 0
    names = {t.name for t in reader.tensors}
    for t in reader.tensors:
        n = int(t.n_bytes)
        total += n
        if t.name == "token_embd.weight":
            per_token += n // int(t.shape[1])  # one row: [n_embd, n_vocab] in ggml's order
            if "output.weight" not in names:
                per_token += n  # a tied lm_head reads the whole matrix
        elif "_exps." in t.name:
            per_token += n * top_k // int(t.shape[2])  # [.., .., n_expert]: top_k experts' slices
        else:
            per_token += n
    return {"file_bytes": os.path.getsize(path), "weight_bytes": total, "bytes_per_token": per_token, "top_k": top_k}


# ---------- the sitting ----------

class Results:
    """WORK/results.json: one entry per finished run, so that an interrupted sitting continues."""

    def __init__(self, path, fresh):
        self.path = path
        self.data = {}
        if os.path.exists(path) and not fresh:
            with open(path) as f:
                self.data = json.load(f)
        self.data.setdefault("started", datetime.datetime.now().isoformat(timespec="seconds"))
        self.data.setdefault("load_before", os.getloadavg()[0])
        self.data.setdefault("commit", subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                                      capture_output=True, text=True).stdout.strip())
        self.data.setdefault("runs", {})

    def get(self, key, measure):
        if key not in self.data["runs"]:
            self.data["runs"][key] = measure()
            self.save()
        return self.data["runs"][key]

    def save(self):
        with open(self.path + ".partial", "w") as f:
            json.dump(self.data, f, indent=1)
        os.replace(self.path + ".partial", self.path)


def bandwidth(binary, args, pages):
    out = run([binary, "--threads", args.threads, "--gib", args.bandwidth_gib, "--passes", args.bandwidth_passes,
               "--pages", pages]).stdout
    return json.loads(out)


def ours(args, work, path, p=None, n=None):
    out, err, peak, wall = timed([args.dsmoe, "bench", "-m", path, "-p", p or args.p, "-n", n or args.n, "-r", args.r,
                                  "-t", args.threads, "-o", "json"], work)
    rows = json.loads(out)
    return {"tests": {row["test"]: row["samples_ns"] for row in rows}, "load_s": rows[0]["load_s"],
            "size": rows[0]["size"], "type": rows[0]["type"], "peak_rss": peak, "wall_s": wall}


def theirs(args, work, peer, path, p=None, n=None):
    out, err, peak, wall = timed(peer.command("bench", path, "--threads", args.threads, "-p", p or args.p, "-n",
                                              n or args.n, "-r", args.r, "--fa", args.fa), work, cwd=peer.cwd,
                                 env=peer.env)
    j = json.loads(out)
    return {"tests": {t["test"]: [round(s * 1e9) for s in t["samples_s"]] for t in j["tests"]}, "load_s": j["load_s"],
            "size": j["size"], "desc": j["desc"], "peak_rss": peak, "wall_s": wall, "flash_attn": j["flash_attn"],
            "type_k": j["type_k"]}


def small_model(args, work):
    """The shipped model as an F32 GGUF (both engines read the same file): where overheads, not bandwidth, decide."""
    out = os.path.join(work, "dsmoe-kjv-9m-f32.gguf")
    if not os.path.exists(out):
        run([args.dsmoe, "convert", os.path.join(ROOT, "models", "dsmoe-kjv-9m"), out, "--type", "f32"])
    return out


def sitting(args, work, peer, read_bw, models, small):
    results = Results(os.path.join(work, "results.json"), args.fresh)
    setting = f"p{args.p}-n{args.n}-r{args.r}-t{args.threads}"
    small_setting = f"p{SMALL_P}-n{SMALL_N}-r{args.r}-t{args.threads}"
    for pages in ("huge", "small"):
        results.get(f"bandwidth|before|{pages}", lambda: bandwidth(read_bw, args, pages))
    plan = [(path, setting, None, None) for path in models]
    if small:
        plan.append((small, small_setting, SMALL_P, SMALL_N))
    for path, path_setting, p, n in plan:
        for rnd in range(args.rounds):
            for engine in ("dsmoe", "llama.cpp"):
                key = f"{engine}|{os.path.basename(path)}|{path_setting}|round{rnd}"
                if key in results.data["runs"]:
                    log(f"{key}: from {results.path}")
                    continue
                log(f"{key} ...")
                start = time.time()
                if engine == "dsmoe":
                    results.get(key, lambda: ours(args, work, path, p, n))
                else:
                    results.get(key, lambda: theirs(args, work, peer, path, p, n))
                log(f"{key} done in {time.time() - start:.0f} s")
    for pages in ("huge", "small"):
        results.get(f"bandwidth|after|{pages}", lambda: bandwidth(read_bw, args, pages))
    # A page rendered again from the stored results keeps the sitting's own end and load.
    results.data.setdefault("finished", datetime.datetime.now().isoformat(timespec="seconds"))
    results.data.setdefault("load_after", os.getloadavg()[0])
    results.save()
    return results.data, setting


# ---------- the page ----------

def throughput(samples_ns, tokens):
    ts = [tokens * 1e9 / s for s in samples_ns]
    return statistics.mean(ts), (statistics.stdev(ts) if len(ts) > 1 else 0.0)


def machine_facts(args):
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), "?")
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip()
    commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    return {"cpu": model, "cores": os.cpu_count(), "threads": args.threads, "memory_gib": mem_kb / 2 ** 20,
            "kernel": platform.release(), "thp": thp, "commit": commit, "load_avg": os.getloadavg()}


def fmt_ts(mean_sd):
    return f"{mean_sd[0]:.2f} ± {mean_sd[1]:.2f}"


def gib(n):
    return f"{n / 2 ** 30:.2f} GiB" if n >= 2 ** 30 else f"{n / 2 ** 20:.1f} MiB"


def speed_rows(data, name, setting, rounds, p, n):
    """The two engines' tokens/s for ppP and tgN of one file, as (rows, {engine: tg mean, sd})."""
    runs = {e: [data["runs"][f"{e}|{name}|{setting}|round{r}"] for r in range(rounds)] for e in ("dsmoe", "llama.cpp")}
    rows, tg = [], {}
    for test, tokens in ((f"pp{p}", p), (f"tg{n}", n)):
        ts = {e: throughput([s for r in rs for s in r["tests"][test]], tokens) for e, rs in runs.items()}
        tg = ts if test.startswith("tg") else tg
        rows.append((test, ts))
    return runs, rows, tg


def long_context_rows(path):
    """The rows of `dsmoe bench -d ... -o json` (written by hand, see the page): memory and decode at depth."""
    with open(path) as f:
        rows = json.load(f)
    out = []
    for row in rows:
        ts = throughput(row["samples_ns"], row["n_prompt"] + row["n_gen"])
        out.append(f"| {row['model']} | {row['n_depth']:,} | {gib(row['kv_bytes'])} | {gib(row['resident_bytes'])} | "
                   f"{gib(row['size'] + row['kv_bytes'])} | {row['test']} | {ts[0]:.2f} |")
    return rows, out


def page(args, data, setting, models, sizes, facts, command_line, small):
    bw = {k.split("|", 1)[1]: v for k, v in data["runs"].items() if k.startswith("bandwidth|")}
    best_bw = max(v["best_gbps"] for k, v in bw.items() if k.endswith("huge"))
    median_bw = statistics.median(g for k, v in bw.items() if k.endswith("huge") for g in v["gbps"])
    speed, floor, memory = [], [], []
    for path in models:
        name = os.path.basename(path)
        runs = {e: [data["runs"][f"{e}|{name}|{setting}|round{r}"] for r in range(args.rounds)]
                for e in ("dsmoe", "llama.cpp")}
        kind = runs["dsmoe"][0]["type"]
        tg = {}
        for test, tokens in ((f"pp{args.p}", args.p), (f"tg{args.n}", args.n)):
            ts = {e: throughput([s for r in rs for s in r["tests"][test]], tokens) for e, rs in runs.items()}
            tg = ts if test.startswith("tg") else tg
            speed.append(f"| {name} | {kind} | {gib(sizes[path]['file_bytes'])} | {test} | {fmt_ts(ts['dsmoe'])} | "
                         f"{fmt_ts(ts['llama.cpp'])} | {ts['dsmoe'][0] / ts['llama.cpp'][0]:.2f} |")
        per_token = sizes[path]["bytes_per_token"]
        floor_ts = best_bw * 1e9 / per_token
        floor.append(f"| {name} | {gib(per_token)} | {floor_ts:.2f} | {median_bw * 1e9 / per_token:.2f} | "
                     f"{tg['dsmoe'][0]:.2f} | "
                     f"{100 * tg['dsmoe'][0] / floor_ts:.1f}% | {tg['llama.cpp'][0]:.2f} | "
                     f"{100 * tg['llama.cpp'][0] / floor_ts:.1f}% |")
        peak = {e: max(r["peak_rss"] for r in rs) for e, rs in runs.items()}
        load = {e: statistics.median(r["load_s"] for r in rs) for e, rs in runs.items()}
        memory.append(f"| {name} | {gib(sizes[path]['file_bytes'])} | {gib(peak['dsmoe'])} | {gib(peak['llama.cpp'])} "
                      f"| {load['dsmoe']:.2f} | {load['llama.cpp']:.2f} |")
    small_rows = []
    if small:
        name = os.path.basename(small)
        small_setting = f"p{SMALL_P}-n{SMALL_N}-r{args.r}-t{args.threads}"
        _, rows, _ = speed_rows(data, name, small_setting, args.rounds, SMALL_P, SMALL_N)
        for test, ts in rows:
            small_rows.append(f"| dsmoe-kjv-9m (F32 GGUF) | {test} | {fmt_ts(ts['dsmoe'])} | {fmt_ts(ts['llama.cpp'])} | "
                              f"{ts['dsmoe'][0] / ts['llama.cpp'][0]:.2f} |")
    long_text = ""
    if args.long_context:
        rows, lines = long_context_rows(args.long_context)
        long_text = LONG_CONTEXT.format(command=args.long_context_command or "(not recorded)", rows="\n".join(lines),
                                        cache_type=args.long_context_cache, note=args.long_context_note or "",
                                        source=os.path.relpath(os.path.abspath(args.long_context), ROOT))
    bw_rows = [f"| {k.split('|')[0]} | {k.split('|')[1]} | {v['best_gbps']:.1f} | {v['median_gbps']:.1f} | "
               f"{gib(max(v['anon_huge_bytes'], 0))} of {gib(v['bytes'])} |" for k, v in bw.items()]
    llama = data["runs"][f"llama.cpp|{os.path.basename(models[0])}|{setting}|round0"]
    # The load after includes the benchmark's own threads: only the load before says whether others were running.
    busy = data["load_before"] > 1.0
    return TEMPLATE.format(
        started=data["started"], finished=data.get("finished", "?"), cpu=facts["cpu"], cores=facts["cores"],
        threads=args.threads, memory_gib=f"{facts['memory_gib']:.1f}", kernel=facts["kernel"], thp=facts["thp"],
        commit=data.get("commit", facts["commit"]), load=f"{data['load_before']:.2f} before, {data['load_after']:.2f} after",
        busy=BUSY.format(threads=args.threads, cores=facts["cores"]) if busy else "",
        peer=llama_cpp_peer.VERSION, fa=llama["flash_attn"], type_k=llama["type_k"], p=args.p, n=args.n, r=args.r,
        rounds=args.rounds, samples=args.r * args.rounds, command=command_line, best_bw=f"{best_bw:.1f}",
        median_bw=f"{median_bw:.1f}",
        bw_gib=args.bandwidth_gib, speed="\n".join(speed), floor="\n".join(floor), memory="\n".join(memory),
        bandwidth="\n".join(bw_rows), small_p=SMALL_P, small_n=SMALL_N,
        small=SMALL.format(rows="\n".join(small_rows), p=SMALL_P, n=SMALL_N) if small_rows else "",
        long_context=long_text)


SMALL = """
## The shipped model: overheads

models/dsmoe-kjv-9m converted to an F32 GGUF (`dsmoe convert --type f32`), the same file for both engines, pp{p}
and tg{n} alternately in the same rounds. At 8.8M parameters the weights sit in the caches: this measures the
cost of everything around the arithmetic (threads, dispatch, small kernels).

| model | test | dsmoe t/s | llama.cpp t/s | dsmoe / llama.cpp |
| --- | --- | ---: | ---: | ---: |
{rows}
"""

LONG_CONTEXT = """
## Long context: the 16B model at 4K, 16K and 32K positions

`dsmoe bench -d` fills the KV cache ({cache_type}) to each depth (one fixed random sequence, extended from one
depth to the next), then decodes; "resident" is the process's resident memory after the test (the weights in
huge-page memory plus the cache pages written so far: the cache is allocated for the deepest test and filled
lazily), "weights + cache" the sum of the file's weight bytes and the cache bytes at that depth. Measured apart
from the sitting above (about 50 minutes for the 32K prefill on 2 cores), its output kept in `{source}`:

```
{command}
```
{note}

| model | depth | KV cache | resident | weights + cache | test | t/s |
| --- | ---: | ---: | ---: | ---: | --- | ---: |
{rows}
"""

BUSY = """
**Warning: the machine was busy during this sitting (load average above 1 with {threads} benchmark threads on
{cores} cores); both engines spin-wait between operations and lose much more than their share. Rerun it idle.**
"""

TEMPLATE = """# Performance

Generated by `tools/lab/performance.py` in one sitting; do not edit by hand (rerun the script). Issue 13 has the
targets.

Sitting: {started} to {finished}, commit `{commit}`. Machine: {cpu}, {cores} cores ({threads} threads used),
{memory_gib} GiB, Linux {kernel}, transparent huge pages `{thp}`, 1-minute load average {load}.
llama.cpp: the prebuilt CPU libraries of npm's `@node-llama-cpp/linux-x64` {peer}, flash attention {fa}, K/V cache
{type_k} (llama-bench's defaults; dsmoe's default K/V cache is F16 too, `--cache-type`).
{busy}
```
{command}
```

## Speed: dsmoe beside llama.cpp on the same GGUF file

Tokens per second, mean ± sample standard deviation of {samples} timed runs ({rounds} rounds x {r}), each engine
after one untimed warm-up per test and round.

| model | type | file | test | dsmoe t/s | llama.cpp t/s | dsmoe / llama.cpp |
| --- | --- | ---: | --- | ---: | ---: | ---: |
{speed}
{small}
## Decode floor: the weights one token reads, at the machine's read bandwidth

Bytes per token: every tensor of the file but the routed experts, plus num_experts_per_tok / n_routed_experts of
each stacked expert tensor (`*_exps`), plus one embedding row. Floor = {best_bw} GB/s (the best huge-page pass of
`read_bandwidth` in this sitting) / bytes per token: no engine decodes faster than this without reading fewer bytes.
This machine's bandwidth swings from pass to pass; the floor at the median huge-page pass ({median_bw} GB/s) is
beside it, and "of floor" is against the best.

| model | bytes / token | floor t/s | at median GB/s | dsmoe tg{n} | of floor | llama.cpp tg{n} | of floor |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
{floor}

## Memory and load time

Peak resident memory of the whole benchmark process (`/usr/bin/time -v`; mapped file pages count once touched), the
largest over the rounds; load time (open, map and bind the weights; llama.cpp: load and context) the median.

| model | file | dsmoe peak RSS | llama.cpp peak RSS | dsmoe load s | llama.cpp load s |
| --- | ---: | ---: | ---: | ---: | ---: |
{memory}

{long_context}
## Read bandwidth, before and after

`read_bandwidth --threads {threads} --gib {bw_gib} --pages huge|small`: each thread sums its own slice of an
anonymous buffer with eight independent 64-byte accumulators; GB/s = 1e9 bytes per second over the slowest thread's
pass. `huge` asks for transparent huge pages (madvise), `small` refuses them.

| when | pages | best GB/s | median GB/s | backed by huge pages |
| --- | --- | ---: | ---: | ---: |
{bandwidth}

## Method

- ppN: N random token ids (seeded) prefilled into an empty KV cache in one forward call (llama.cpp: one
  `llama_decode` with n_batch = n_ubatch = N). tgN: N single-token forward calls from an empty cache, each feeding
  the argmax of the last, the first token BOS. The cache is cleared before the clock starts.
- The engines alternate (dsmoe, llama.cpp, dsmoe, llama.cpp, ...), each a fresh process per round, so that a
  noisy neighbour or a change of clock speed falls on both; ratios are taken within the sitting only.
- Each engine holds the weights its default way: llama.cpp maps the file; dsmoe reads it into transparent
  huge-page memory when that leaves a fifth of the available memory free (else maps it), and
  there lays Q8_0, Q4_0, Q4_K and Q6_K matrices out in groups of eight rows for its eight-row kernels (quant/interleave.h;
  llama.cpp's CPU backend repacks some formats at load too: ggml-cpu's repack.cpp). The 16B
  files are random weights at deepseek-moe-16b's shape (`dsmoe make-model --seed 1`): the speed of a real
  checkpoint of the same type.

## `dsmoe bench`

dsmoe's own llama-bench: `dsmoe bench -m MODEL` (an HF folder or a .gguf; `--no-mmap` reads it into memory) or
`--config CONFIG.json [--layers N] [--dtype bf16|f16|f32]` (random weights; the default is
configs/deepseek-moe-16b-base.json), with `-p 512 -n 128 -t 1,2 -r 5` (comma lists; 0 skips a test),
`-o md|json|csv`. Columns: model, size (bytes of the weights bound), params (total), type (the GGUF file type, or
the weights' dtype), threads, test, t/s (mean ± sample sd). JSON rows add n_prompt, n_gen, load_s, samples_ns
(one per timed run), avg_ts and stddev_ts; `-v` prints the load time, the KV cache and the peak resident memory on
stderr. The same tests for llama.cpp: `llama_driver bench GGUF --threads T -p P -n N -r R [--fa off|on|auto]`
(tests/peers/llama_driver.c).
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dsmoe", help="the dsmoe binary (default: build-bench/dsmoe, else build/dsmoe)")
    ap.add_argument("--peer", help="the llama.cpp peer folder (default: next to dsmoe, else build/llama_cpp_peer)")
    ap.add_argument("--work", help="results, the quick model and read_bandwidth's build (default: BUILD/performance)")
    ap.add_argument("--models-dir", help="where the 16B GGUF files are, or are made (default: WORK/models)")
    ap.add_argument("--types", default=",".join(TYPES), help="16B file types (default: %(default)s)")
    ap.add_argument("--gguf", action="append", help="measure this GGUF file instead (repeatable)")
    ap.add_argument("-p", type=int, help="prompt tokens (default 512; quick 64)")
    ap.add_argument("-n", type=int, help="generated tokens (default 128; quick 16)")
    ap.add_argument("-r", type=int, help="timed runs per process (default 3; quick 2)")
    ap.add_argument("--rounds", type=int, default=2, help="alternations of the two engines (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fa", default="off", choices=["off", "on", "auto"], help="llama.cpp flash attention")
    ap.add_argument("--out", help="the page (default: docs/performance.md; quick: WORK/performance-quick.md)")
    ap.add_argument("--quick", action="store_true", help="the whole pipeline on the shipped 9M model in a minute")
    ap.add_argument("--fresh", action="store_true", help="forget WORK/results.json and measure everything again")
    ap.add_argument("--no-small", action="store_true", help="skip the shipped model's pp256/tg128 rows")
    ap.add_argument("--long-context", help="`dsmoe bench -d ... -o json` output to show as the long-context table")
    ap.add_argument("--long-context-command", help="the command that wrote --long-context (shown on the page)")
    ap.add_argument("--long-context-cache", default="F16", help="its KV cache type (default: %(default)s)")
    ap.add_argument("--long-context-note", help="a remark printed under the long-context command")
    args = ap.parse_args()
    for flag, low, high in (("p", 1, 1 << 20), ("n", 1, 1 << 20), ("r", 1, 1000), ("rounds", 1, 100),
                            ("threads", 1, 1024)):
        value = getattr(args, flag)
        if value is not None and not low <= value <= high:
            ap.error(f"--{flag} must be between {low} and {high}, found {value}")
    args.p = args.p or (64 if args.quick else 512)
    args.n = args.n or (16 if args.quick else 128)
    args.r = args.r or (2 if args.quick else 3)
    args.bandwidth_gib, args.bandwidth_passes = (0.5, 5) if args.quick else (2, 10)
    if not args.dsmoe:
        args.dsmoe = next((p for p in (os.path.join(ROOT, "build-bench", "dsmoe"), os.path.join(ROOT, "build", "dsmoe"))
                           if os.path.exists(p)), None)
    if not args.dsmoe or not os.path.exists(args.dsmoe):
        ap.error("no dsmoe binary: build it (cmake --build build-bench --target dsmoe) or pass --dsmoe")
    args.dsmoe = os.path.abspath(args.dsmoe)
    work = os.path.abspath(args.work or os.path.join(os.path.dirname(args.dsmoe), "performance" +
                                                     ("-quick" if args.quick else "")))
    os.makedirs(work, exist_ok=True)
    args.models_dir = args.models_dir or os.path.join(work, "models")
    out = args.out or (os.path.join(work, "performance-quick.md") if args.quick else
                       os.path.join(ROOT, "docs", "performance.md"))

    if os.getloadavg()[0] > 0.5:
        log(f"warning: load average {os.getloadavg()[0]:.2f}: another program is running; the numbers will show it")
    peer = Peer(find_peer(args))
    read_bw = build_read_bandwidth(work)
    models = ensure_models(args, work)
    gguf = llama_cpp_peer.import_gguf(peer.dir)
    sizes = {m: weight_bytes(m, gguf) for m in models}
    small = None if (args.quick or args.no_small or args.gguf) else small_model(args, work)
    data, setting = sitting(args, work, peer, read_bw, models, small)
    command_line = "/usr/bin/python3 tools/lab/performance.py " + " ".join(shlex.quote(
        a if not a.startswith("/") else os.path.relpath(a, ROOT) if a.startswith(ROOT) else a) for a in sys.argv[1:])
    text = page(args, data, setting, models, sizes, machine_facts(args), command_line.strip(), small)
    with open(out, "w") as f:
        f.write(text)
    log(f"wrote {out}")
    print(text)


if __name__ == "__main__":
    main()
