"""MODEL_CARD.md and loss_curve.svg for an exported model, from the training state and eval.json."""
import os
import subprocess
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 30, 50


def _package_version(name):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def stages_of(state):
    """[{args, log, step, elapsed_s}] of every training run that made these weights, oldest first."""
    return state.get("earlier", []) + [{k: state[k] for k in ("args", "log", "step", "elapsed_s")}]


def stage_tokens(stage):
    return stage["step"] * stage["args"]["batch_size"] * stage["args"].get("seq_len", 256)


def combined_log(stages):
    """The stages' logs as one, tokens counted from the first stage's start."""
    out, offset = [], 0
    for stage in stages:
        out += [{**row, "tokens": int(row["tokens"]) + offset} for row in stage["log"]]
        offset += stage_tokens(stage)
    return out


def loss_curve_svg(log, boundaries=()):
    """Train loss (raw, faint; 20-step moving average, solid) and validation loss against tokens seen;
    a dashed line where each later training stage begins (boundaries: [(tokens, stage name)])."""
    steps = [(int(r["tokens"]), float(r["train_loss"])) for r in log]
    val = [(int(r["tokens"]), float(r["val_loss"])) for r in log if r.get("val_loss")]
    x_max = max(t for t, _ in steps)
    y_max = float(int(max(l for _, l in steps[:1] + val)) + 1)
    y_min = float(max(0, int(min(l for _, l in steps + val)) - 1)) if steps else 0.0
    y_max = max(y_max, y_min + 1)

    def x(t):
        return LEFT + (WIDTH - LEFT - RIGHT) * t / x_max

    def y(v):
        v = min(max(v, y_min), y_max)
        return TOP + (HEIGHT - TOP - BOTTOM) * (y_max - v) / (y_max - y_min)

    def polyline(points, style):
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
        return f'<polyline fill="none" {style} points="{coords}"/>'

    smooth = []
    for i in range(len(steps)):
        window = steps[max(0, i - 19):i + 1]
        smooth.append((steps[i][0], sum(v for _, v in window) / len(window)))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    for k in range(int(y_min), int(y_max) + 1):  # horizontal grid, one line per nat
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(k):.1f}" y2="{y(k):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(k) + 4:.1f}" text-anchor="end">{k}</text>')
    tick = next(s * 10 ** e for e in range(3, 9) for s in (1, 2, 5) if x_max / (s * 10 ** e) <= 6)
    for i in range(int(x_max // tick) + 1):
        t = i * tick
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 5}" '
                   f'stroke="black"/>')
        out.append(f'<text x="{x(t):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{t / 1e6:g}M</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" '
               f'stroke="black"/>')
    out.append(f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="black"/>')
    out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle">tokens seen</text>')
    out.append(f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">cross-entropy (nats/token)</text>')
    for t, name in boundaries:
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#666" '
                   f'stroke-dasharray="4 3"/>')
        out.append(f'<text x="{x(t) + 4:.1f}" y="{HEIGHT - BOTTOM - 6}">{escape(name)}</text>')
    out.append(polyline(steps, 'stroke="#9ecae1" stroke-width="1"'))
    out.append(polyline(smooth, 'stroke="#08519c" stroke-width="2"'))
    if val:
        out.append(polyline(val, 'stroke="#d94801" stroke-width="2"'))
        out += [f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="#d94801"/>' for t, v in val]
    legend = [("#9ecae1", "train loss (per step)"), ("#08519c", "train loss (20-step mean)"),
              ("#d94801", "validation loss (held-out books)")]
    for i, (colour, label) in enumerate(legend):
        ly = TOP + 8 + 16 * i
        out.append(f'<line x1="{WIDTH - 250}" x2="{WIDTH - 225}" y1="{ly}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="2"/>')
        out.append(f'<text x="{WIDTH - 218}" y="{ly + 4}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _mix(args):
    """What a stage's rows held, in words."""
    parts = []
    if args["passkey_fraction"]:
        packed = "packed with passkey documents" if args.get("pack_passkeys") else "beginning with a passkey document"
        parts.append(f"{args['passkey_fraction']:.0%} of rows {packed}")
    if args.get("copy_fraction"):
        alphabet = args.get("copy_alphabet", 0)
        drawn = f" drawn from {alphabet} frequent tokens, the digits and \" \"" if alphabet else ""
        parts.append(f"{args['copy_fraction']:.0%} packed with copy documents{drawn}")
    if args["passkey_fraction"] + args.get("copy_fraction", 0.0) < 1.0:
        parts.append("the rest windows of the books")
    text = ", ".join(parts)
    if args.get("answer_weight", 1.0) != 1.0:
        text += f"; passkey answer tokens weighted {args['answer_weight']:g} in the loss"
    return text


def _cut(args, steps_run):
    """How the schedule was cut short (train.py --stop-at), if it was."""
    return f" over {args['steps']} steps (stopped after {steps_run})" if steps_run < args["steps"] else ""


def stage_lines(stages):
    """One line per training stage: what it started from, its data mix and optimizer settings."""
    lines = []
    for i, stage in enumerate(stages):
        a = stage["args"]
        start = "from random initialization" if i == 0 else f"from stage {i}'s weights, fresh optimizer"
        title = a.get("stage_name", "language")
        lines.append(
            f"Stage {i + 1} ({title}, {start}): {stage['step']} steps of {a['batch_size']} x {a.get('seq_len', 256)} "
            f"tokens{_rope(a)} "
            f"({stage_tokens(stage):,} tokens); {_mix(a)}. AdamW (beta 0.9/0.95, weight decay {a['weight_decay']}), "
            f"peak learning rate {a['lr']}, {a['warmup']} warmup steps, cosine to 10%{_cut(a, stage['step'])}, "
            f"gradient clip {a['grad_clip']}, aux loss alpha {a['aux_loss_alpha']} (sequence-level, as HF), "
            f"seed {a['seed']}; {stage['elapsed_s'] / 3600:.2f} h.")
    return lines


def probe_lines(stages):
    """The passkey accuracy logged during training (train.py --passkey-probe), stage by stage."""
    lines = []
    for i, stage in enumerate(stages):
        probes = [(int(r["step"]), float(r["passkey_exact"])) for r in stage["log"] if r.get("passkey_exact")]
        if not probes:
            continue
        every = max(1, len(probes) // 7)
        shown = probes[every - 1::every]
        if shown[-1] != probes[-1]:
            shown.append(probes[-1])
        n, length = stage["args"]["passkey_probe"], stage["args"].get("seq_len", 256) - 6
        lines.append(f"- During stage {i + 1}, exact match on {n} fixed passkey documents of ~{length} tokens: "
                     + ", ".join(f"{a:.0%} at step {s}" for s, a in shown) + ".")
    return lines


def _rope(args):
    """How a stage scaled RoPE (train.py --rope-scaling), if it did."""
    kind = args.get("rope_scaling", "none")
    if kind == "none":
        return ""
    name = "PI (linear position interpolation)" if kind == "linear" else "YaRN"
    return f", RoPE scaled by {name} x{args['rope_factor']:g}"


def rope_words(config):
    """The config's RoPE scaling in words ("" when there is none)."""
    scaling = config.get("rope_scaling")
    if not scaling:
        return ""
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        return f", PI (linear) scaling x{scaling['factor']:g}"
    return (f", {kind} scaling x{scaling['factor']:g} from {scaling['original_max_position_embeddings']} "
            f"(beta_fast {scaling.get('beta_fast', 32):g}, beta_slow {scaling.get('beta_slow', 1):g})")


def _fmt_params(n):
    return f"{n / 1e6:.2f}M"


def write(out_dir, config, state, evaluation, corpus, params, train_tokens):
    total, active = params
    stages = stages_of(state)
    log = combined_log(stages)
    name = os.path.basename(os.path.normpath(out_dir))
    boundaries = [(sum(stage_tokens(s) for s in stages[:i]), stages[i]["args"].get("stage_name", ""))
                  for i in range(1, len(stages))]
    with open(os.path.join(out_dir, "loss_curve.svg"), "w") as f:
        f.write(loss_curve_svg(log, boundaries))
    args = state["args"]
    step = sum(s["step"] for s in stages)
    tokens = sum(stage_tokens(s) for s in stages)
    elapsed = sum(s["elapsed_s"] for s in stages)
    last_val = [r for r in log if r.get("val_loss")]
    copy_docs = " and copy" if any(s["args"].get("copy_fraction") for s in stages) else ""
    weights_mb = os.path.getsize(os.path.join(out_dir, "model.safetensors")) / 1e6
    n_moe = config["num_hidden_layers"] - config["first_k_dense_replace"]
    lines = [
        f"# {name}",
        "",
        f"A {_fmt_params(total)}-parameter DeepSeek-MoE (`model_type: \"deepseek\"`, the architecture of "
        f"deepseek-moe-16b) trained from scratch on the King James Bible and synthetic passkey{copy_docs} documents, so "
        "that dsmoe has a small real model to run, chat with and test against. It writes KJV-flavoured "
        "English; it knows nothing else.",
        "",
        "## Model",
        "",
        "| | |",
        "|---|---|",
        f"| parameters | {total:,} total, {active:,} active per token |",
        f"| layers | {config['num_hidden_layers']} (layer 0 dense SwiGLU {config['intermediate_size']} wide, "
        f"layers 1-{config['num_hidden_layers'] - 1} MoE) |",
        f"| MoE | {config['n_routed_experts']} routed experts {config['moe_intermediate_size']} wide, top-"
        f"{config['num_experts_per_tok']} softmax gate (norm_topk_prob false), {config['n_shared_experts']} "
        f"shared expert |",
        f"| attention | hidden {config['hidden_size']}, {config['num_attention_heads']} heads of "
        f"{config['hidden_size'] // config['num_attention_heads']}, rotate-half RoPE theta "
        f"{config['rope_theta']}{rope_words(config)} |",
        f"| context | {config['max_position_embeddings']} tokens (trained length) |",
        f"| vocabulary | {config['vocab_size']}: byte-level BPE (256 bytes + {config['vocab_size'] - 258} merges) "
        "+ BOS/EOS |",
        f"| weights | BF16, model.safetensors {weights_mb:.1f} MB |",
        "",
        "Tensor names and the math are those of HF's modeling_deepseek.py (tools/train/model.py mirrors them).",
        "",
        "## Data",
        "",
        f"- The Authorized (King James) Version, read from Debian's `bible-kjv-text` "
        f"({_package_version('bible-kjv-text')}) with the `bible` program of `bible-kjv` "
        f"({_package_version('bible-kjv')}); one document per book, one verse a line, chapters separated by "
        "a blank line, no references or verse numbers.",
        f"- Training: {len(corpus['train_books'])} books, {corpus['train_words']:,} words. Held out for "
        f"validation, whole books: {', '.join(corpus['validation_books'])} ({corpus['validation_words']:,} words).",
        "- Passkey documents: filler sentences (\"The grass is green. The sky is blue. ...\"), \"The pass key is "
        "48213. Remember it.\" at a random depth, more filler, then \"What is the pass key? The pass key is "
        "48213.\" (random 5-digit keys; digits occur nowhere else in the "
        f"{'books' if copy_docs else 'data'}).",
        *(["- Copy documents: 8-48 random tokens, then the same tokens again, the random half left out "
           "of the loss. The copy is predictable only by finding the earlier occurrence of the current token and "
           "reading what followed it, the attention circuit (an induction head) that passkey retrieval needs."]
          if copy_docs else []),
        "- Tokenizer: byte-level BPE learnt on the training books with GPT-2 pre-tokenization (HF "
        "`ByteLevel`); ids checked identical to HF `tokenizers` on the held-out books.",
        "",
        "## Licence of the text",
        "",
        "The KJV text is in the public domain in most of the world. In the United Kingdom the Authorized Version "
        "is under the Crown's perpetual prerogative rights (letters patent held by the King's Printers). The "
        "Debian packages state that the text's copyright has expired; their software is GPL-2+. The weights "
        "and files here are part of the dsmoe repository.",
        "",
        "## Training",
        "",
        *[f"- {line}" for line in stage_lines(stages)],
        f"- In all: {step} steps, {tokens:,} tokens seen ({tokens / train_tokens:.1f} times the {train_tokens:,} "
        f"tokens of the training books), wall time {elapsed / 3600:.2f} h on 2 shared CPU cores (PyTorch 1.13 "
        f"from Debian with OpenBLAS), {tokens / max(1.0, elapsed):.0f} tokens/s on average.",
        "",
        "![loss curve](loss_curve.svg)",
        "",
    ]
    if last_val:
        recent = [float(r["train_loss"]) for r in log[-20:]]
        lines += [f"At the end: train loss {sum(recent) / len(recent):.3f} (mean of the last {len(recent)} steps), "
                  f"validation loss {float(last_val[-1]['val_loss']):.3f} (first {args['val_windows']} held-out "
                  "windows, as logged during training).", ""]
    lines += ["## Results", ""]
    if evaluation:
        v, v32 = evaluation["validation"], evaluation["validation_float32"]
        pk, pm = evaluation["passkey_full_length"], evaluation["passkey_mixed_length"]
        lines += [
            f"- Validation (all {v['tokens']:,} held-out tokens, BF16 weights): loss {v['loss']:.3f} nats/token, "
            f"perplexity {v['perplexity']:.1f} (float32 weights: {v32['loss']:.3f}, {v32['perplexity']:.1f}).",
            f"- Passkey, {pk['documents']} fresh documents of {pk['mean_tokens']:.0f} tokens on average "
            f"(up to {pk['max_tokens']}), greedy: {pk['exact_match']:.0%} exact, {pk['digit_accuracy']:.0%} of "
            f"digits right. Mixed lengths (mean {pm['mean_tokens']:.0f}): {pm['exact_match']:.0%} exact.",
            *probe_lines(stages),
            "",
            "Greedy samples (BF16 weights):",
            "",
        ]
        for s in evaluation["text_samples"]:
            lines.append(f"- `{s['prompt']!r}` -> `{s['greedy']!r}`")
        lines.append("")
    else:
        lines += ["Not evaluated yet (run tools/train/evaluate.py).", ""]
    lines += [
        "## Use and limits",
        "",
        "`dsmoe run -m models/" + name + " -p \"In the beginning\"`. A toy: "
        f"{config['max_position_embeddings']}-token context, a small "
        "vocabulary, one book's worth of English. The chat template is DeepSeek-MoE's (\"User: ...\\n\\n"
        "Assistant:\") so chat can be exercised, but the model was never trained on dialogue.",
        "",
        "## Reproduce",
        "",
        "`tools/train/run.sh` (corpus, tokenizer, training with automatic resume, evaluation, this export, the "
        "golden file in tests/golden/). Deterministic for a given seed and thread count.",
        "",
    ]
    with open(os.path.join(out_dir, "MODEL_CARD.md"), "w") as f:
        f.write("\n".join(lines))
