#!/usr/bin/python3
"""The oracle for dsmoe's chat templates: renders a template with jinja2 the way HF's
tokenizer.apply_chat_template(messages, tokenize=False) does, without needing transformers.

Facts this mirrors (transformers, utils/chat_template_utils.py `_compile_jinja_template` and
`render_jinja_template`, tokenization_utils_base.py `apply_chat_template`):
  - the environment is jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
    extensions=[AssistantTracker, jinja2.ext.loopcontrols]); AssistantTracker only adds the
    {% generation %}...{% endgeneration %} tag, which renders its body;
  - env.filters["tojson"] is replaced by
        def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
            return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                              sort_keys=sort_keys)
    (jinja2's own tojson would HTML-escape and sort keys);
  - env.globals["raise_exception"](message) raises jinja2.exceptions.TemplateError(message);
  - env.globals["strftime_now"](format) is datetime.now().strftime(format);
  - the template is rendered with messages=..., tools=... (None when not given),
    documents=... (None), add_generation_prompt=..., **template_kwargs, where
    template_kwargs = {**tokenizer.special_tokens_map, **kwargs}: the bos/eos/unk/sep/pad/cls/mask tokens
    and additional_special_tokens that are set, each as a string (an AddedToken's "content");
  - tokenizer_config's "chat_template" is a string, or a list of {"name", "template"} of which "default"
    is used; a tokenizer without one cannot apply a chat template (ValueError).
Run as a script it prints the rendered prompt with no newline added, like `dsmoe template`.
"""
import functools
import argparse
import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.sandbox

SPECIAL_TOKEN_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class GenerationTag(jinja2.ext.Extension):
    """{% generation %}body{% endgeneration %} renders body, as HF's AssistantTracker does when inactive."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render_body"), [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        return caller()


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format):
    return datetime.now().strftime(format)


def make_environment():
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


class NoChatTemplate(Exception):
    pass


def template_from_config(config):
    template = config.get("chat_template")
    if template is None:
        raise NoChatTemplate("tokenizer_config has no chat_template")
    if isinstance(template, list):
        named = {entry["name"]: entry["template"] for entry in template}
        if "default" not in named:
            raise NoChatTemplate("chat_template list has no 'default'")
        return named["default"]
    return template


def special_tokens(config):
    def text(token):
        return token["content"] if isinstance(token, dict) else token

    tokens = {key: text(config[key]) for key in SPECIAL_TOKEN_KEYS if config.get(key) is not None}
    extra = [text(t) for t in config.get("additional_special_tokens") or [] if t is not None]
    if extra:
        tokens["additional_special_tokens"] = extra
    return tokens


def split_messages_input(data):
    """A messages file is a list of messages, or {"messages": [...], other template variables}."""
    if isinstance(data, list):
        return data, {}
    extra = {k: v for k, v in data.items() if k != "messages"}
    return data["messages"], extra


@functools.lru_cache(maxsize=None)
def compiled_template(template_source):
    """Compiling a real template takes jinja2 about a quarter of a second; the message sets reuse it."""
    return make_environment().from_string(template_source)


def render(template_source, config, messages_input, add_generation_prompt):
    messages, extra = split_messages_input(messages_input)
    kwargs = dict(extra)
    tools = kwargs.pop("tools", None)
    documents = kwargs.pop("documents", None)
    template_kwargs = {**special_tokens(config), **kwargs}
    return compiled_template(template_source).render(messages=messages, tools=tools, documents=documents,
                           add_generation_prompt=add_generation_prompt, **template_kwargs)


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer-config", help="tokenizer_config.json (special tokens, chat_template)")
    parser.add_argument("--template", help="a Jinja template file instead of the config's chat_template")
    parser.add_argument("--messages", required=True)
    parser.add_argument("--add-generation-prompt", action="store_true")
    args = parser.parse_args()
    config = json.loads(read_text(args.tokenizer_config)) if args.tokenizer_config else {}
    source = read_text(args.template) if args.template else template_from_config(config)
    messages_input = json.loads(read_text(args.messages))
    sys.stdout.write(render(source, config, messages_input, args.add_generation_prompt))


if __name__ == "__main__":
    main()
