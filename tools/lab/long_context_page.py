"""docs/long-context.md and its plots, from the lab's recorded results (long_context.py)."""
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

import dsmoe_json  # noqa: E402

METHOD_NAMES = {"none": "none (extrapolate)", "linear": "linear (PI)", "dynamic": "dynamic NTK", "yarn": "YaRN",
                "llama3": "llama3", "file": "its own config"}


def series(results, name, method, lengths, kind):
    return [results.get(f"{name}|{method}|{n}|{kind}") for n in lengths]


def fmt(value, digits=2):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def plot_perplexity(path, results, rows, lengths, past):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, name, method in rows:
        values = [dsmoe_json.ppl_past(r) if past else dsmoe_json.ppl(r) if r else None
                  for r in series(results, name, method, lengths, "perplexity")]
        points = [(n, v) for n, v in zip(lengths, values) if v is not None]
        if points:
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.set_xticks(lengths)
    ax.set_xticklabels([str(n) for n in lengths])
    ax.set_xlabel("context length (tokens; trained at 256)")
    ax.set_ylabel("perplexity" + (" of positions >= 256" if past else " (all positions)"))
    ax.set_title("Held-out perplexity against context length" + (", positions past training" if past else ""))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_passkey(path, results, rows, lengths, depths):
    fig, axes = plt.subplots(1, len(rows), figsize=(2.3 * len(rows) + 1, 3.4), sharey=True)
    if len(rows) == 1:
        axes = [axes]
    image = None
    for ax, (label, name, method) in zip(axes, rows):
        grid = []
        for depth in depths:
            row = []
            for r in series(results, name, method, lengths, "passkey"):
                row.append(dsmoe_json.passkey_at_depth(r, depth) if r else float("nan"))
            grid.append(row)
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto", origin="upper")
        for i, row in enumerate(grid):
            for j, v in enumerate(row):
                if not math.isnan(v):
                    ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=7,
                            color="white" if v < 0.6 else "black")
        ax.set_xticks(range(len(lengths)))
        ax.set_xticklabels([str(n) for n in lengths], rotation=45, fontsize=7)
        ax.set_yticks(range(len(depths)))
        ax.set_yticklabels([f"{d:g}" for d in depths], fontsize=7)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("context", fontsize=8)
    axes[0].set_ylabel("needle depth")
    fig.colorbar(image, ax=axes, shrink=0.8, label="exact-match accuracy")
    fig.suptitle("Passkey retrieval (greedy, exact match) by depth and context length", fontsize=10)
    fig.savefig(path)
    plt.close(fig)


def table(results, rows, lengths):
    lines = ["| method | " + " | ".join(f"{n}: ppl / ppl past 256 / passkey" for n in lengths) + " |",
             "|---|" + "---|" * len(lengths)]
    for label, name, method in rows:
        cells = []
        for n in lengths:
            p = results.get(f"{name}|{method}|{n}|perplexity")
            k = results.get(f"{name}|{method}|{n}|passkey")
            cells.append(f"{fmt(dsmoe_json.ppl(p)) if p else 'n/a'} / {fmt(dsmoe_json.ppl_past(p)) if p else 'n/a'}"
                         f" / {fmt(dsmoe_json.passkey(k)) if k else 'n/a'}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(results, rows, lengths):
    """Issue 11's targets, checked against the numbers."""
    out = []
    base = results.get("shipped|none|256|perplexity")
    if base is None or 1024 not in lengths:
        return "Targets need the 256 and 1024 runs."
    ppl256 = dsmoe_json.ppl(base)
    best = None
    for label, name, method in rows:
        if name != "shipped":
            continue
        p = results.get(f"{name}|{method}|1024|perplexity")
        k = results.get(f"{name}|{method}|1024|passkey")
        if p and k and (best is None or dsmoe_json.ppl(p) < best[1]):
            best = (label, dsmoe_json.ppl(p), dsmoe_json.passkey(k))
    if best:
        rise = 100 * (best[1] / ppl256 - 1)
        out.append(f"- Zero-shot at 1024 (4x): the best method by perplexity is {best[0]}: {best[1]:.2f} against "
                   f"{ppl256:.2f} at 256 ({rise:+.1f}%; target within +10%: {'met' if rise <= 10 else 'missed'}), "
                   f"passkey {100 * best[2]:.0f}% (target >= 90%: {'met' if best[2] >= 0.9 else 'missed'}).")
    for label, name, method in rows:
        if name == "shipped":
            continue
        p256 = results.get(f"{name}|{method}|256|perplexity")
        p1k = results.get(f"{name}|{method}|1024|perplexity")
        k1k = results.get(f"{name}|{method}|1024|passkey")
        if p256 and p1k and k1k:
            out.append(f"- {label}: perplexity {dsmoe_json.ppl(p1k):.2f} at 1024 against "
                       f"{dsmoe_json.ppl(p256):.2f} at 256 (target: no higher: "
                       f"{'met' if dsmoe_json.ppl(p1k) <= dsmoe_json.ppl(p256) else 'missed'}); at 256 it is "
                       f"{100 * (dsmoe_json.ppl(p256) / ppl256 - 1):+.1f}% from the original; passkey at 1024 "
                       f"{100 * dsmoe_json.passkey(k1k):.0f}% (target >= 95%: "
                       f"{'met' if dsmoe_json.passkey(k1k) >= 0.95 else 'missed'}).")
    return "\n".join(out)


def write(args, results, models):
    lengths = [int(x) for x in args.lengths.split(",")]
    depths = [float(x) for x in args.depths.split(",")]
    rows = []
    for name, _, methods in models:
        for method in methods:
            label = METHOD_NAMES[method] if name == "shipped" else f"{name} ({METHOD_NAMES[method]})"
            rows.append((label, name, method))
    figures = os.path.join(args.docs, "long-context")
    os.makedirs(figures, exist_ok=True)
    plot_perplexity(os.path.join(figures, "perplexity.svg"), results, rows, lengths, past=False)
    plot_perplexity(os.path.join(figures, "perplexity_past_training.svg"), results, rows, lengths, past=True)
    plot_passkey(os.path.join(figures, "passkey.svg"), results, rows, lengths, depths)
    # The lab runs a copy of the binary; the page shows the command as a user would type it.
    commands = sorted({"dsmoe " + r["command"].split(" ", 1)[1] for r in results.values() if "command" in r})
    wall = sum(r.get("wall_seconds", 0) for r in results.values())
    page = [
        "# Long context, measured",
        "",
        "What the shipped model, [dsmoe-kjv-9m](../models/dsmoe-kjv-9m/MODEL_CARD.md) (trained at 256 tokens), does "
        "past its training length, with each RoPE scaling method and after a context-extension fine-tune. Made by "
        "`/usr/bin/python3 tools/lab/long_context.py --dsmoe build/dsmoe"
        + "".join(f" --extended '{item}'" for item in args.extended)
        + "` (tools/lab/; results are recorded as they come, so a rerun continues); every number below comes "
        "from its recorded runs (docs/long-context/results.json).",
        "",
        "## Setup",
        "",
        "- Perplexity: `dsmoe perplexity` over the held-out books (Ruth, Ecclesiastes, Jonah, Philippians, Jude; "
        "`tools/train/heldout_text.py`), non-overlapping windows of N tokens each starting with BOS, every other "
        "token scored; \"past 256\" is the perplexity of the positions >= 256 within their window alone.",
        f"- Passkey: `dsmoe passkey`, the training format (filler, the key sentence at depth "
        f"{', '.join(f'{d:g}' for d in depths)}, the question), greedy, exact match; trials per depth and length: "
        f"`{args.trials}`, seed {args.seed}.",
        "- Extended models run with their own config.json (no flags): fine-tuned PI and fine-tuned YaRN are "
        "the first extension stage (150 steps at 1024 tokens, tools/train/README.md); dsmoe-kjv-9m-1k, the "
        "shipped extended model, adds a second YaRN stage of 110 steps.",
        "- Methods (the scale factor s = N / 256, none at 256): linear = position interpolation; dynamic = HF's "
        "dynamic NTK (the base follows the sequence length, `--rope-dynamic grow`); YaRN with L0 = 256, "
        "beta_fast 32, beta_slow 1, attention factor 0.1 ln s + 1 (transformers flavour); llama3 with L0 = 256, "
        "low_freq_factor 1, high_freq_factor 4.",
        f"- Wall time of all recorded runs: {wall / 60:.1f} min on this machine ({args.threads} thread(s) per run, the "
        "machine shared with a training run and builds, so times are pessimistic).",
        "",
        "## Results",
        "",
        "Each cell: perplexity (all positions) / perplexity of positions past 256 / passkey accuracy.",
        "",
        table(results, rows, lengths),
        "",
        "![perplexity](long-context/perplexity.svg)",
        "",
        "![perplexity past training](long-context/perplexity_past_training.svg)",
        "",
        "![passkey](long-context/passkey.svg)",
        "",
        "## Targets",
        "",
        targets(results, rows, lengths),
        "",
    ]
    if args.notes and os.path.exists(args.notes):
        with open(args.notes) as f:
            page += [f.read().rstrip(), ""]
    page += ["## Commands", "", "```"] + commands + ["```", ""]
    with open(os.path.join(args.docs, "long-context.md"), "w") as f:
        f.write("\n".join(page))
    print(f"wrote {os.path.join(args.docs, 'long-context.md')}")
