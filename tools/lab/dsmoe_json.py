"""Reading the --json objects of `dsmoe perplexity` and `dsmoe passkey` (docs/perplexity-passkey.md)."""
import math


def ppl(result):
    return result["perplexity"]


def ppl_past(result):
    nll = result.get("nll_after_train_ctx")
    return math.exp(nll) if nll is not None else None


def passkey(result):
    return result["accuracy"]


def passkey_at_depth(result, depth):
    for row in result["per_depth"]:
        if abs(row["depth"] - depth) < 1e-9:
            return row["accuracy"]
    return float("nan")
