// Chat template syntax: jinja2's whitespace rules under HF's settings (trim_blocks, lstrip_blocks), the
// lexer's tokens and positions, and the errors for what the renderer does not support. Expected strings
// are what jinja2 3.1 renders for the same source (checked by hand with tests/chat_template/hf_render.py).
#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"
#include "dsmoe/chat_template.h"
#include "jinja/jinja_lexer.h"

namespace {

using dsmoe::ChatTemplate;
using dsmoe::jinja::lex_template;
using dsmoe::jinja::Token;

std::string render_syntax(const std::string& source, const nlohmann::json& context = nlohmann::json::object()) {
  return ChatTemplate(source).render(context);
}

// The message of the Error that parsing `source` raises, or "" if it parses.
std::string parse_error(const std::string& source) {
  try {
    ChatTemplate parsed(source);
  } catch (const dsmoe::Error& e) {
    return e.what();
  }
  return "";
}

TEST(ChatTemplateLexer, SplitsTextAndTagsWithPositions) {
  const std::vector<Token> tokens = lex_template("Hi {{ name }}!\n{% if x %}y{% endif %}");
  ASSERT_GE(tokens.size(), 12u);
  EXPECT_EQ(tokens[0].type, Token::Type::kText);
  EXPECT_EQ(tokens[0].text, "Hi ");
  EXPECT_EQ(tokens[1].type, Token::Type::kVariableBegin);
  EXPECT_EQ(tokens[2].type, Token::Type::kName);
  EXPECT_EQ(tokens[2].text, "name");
  EXPECT_EQ(tokens[2].pos.line, 1);
  EXPECT_EQ(tokens[2].pos.column, 7);
  EXPECT_EQ(tokens[3].type, Token::Type::kVariableEnd);
  EXPECT_EQ(tokens[5].type, Token::Type::kBlockBegin);
  EXPECT_EQ(tokens[5].pos.line, 2);
  EXPECT_EQ(tokens.back().type, Token::Type::kEnd);
}

TEST(ChatTemplateLexer, DecodesLiterals) {
  const std::vector<Token> tokens = lex_template(R"({{ 'a\'b\n\x41\u00e9' "q\"" 1_000 0x1F 2.5e-3 1e3 x.0 }})");
  EXPECT_EQ(tokens[1].text, "a'b\nA\xc3\xa9");
  EXPECT_EQ(tokens[2].text, "q\"");
  EXPECT_EQ(tokens[3].integer, 1000);
  EXPECT_EQ(tokens[4].integer, 31);
  EXPECT_DOUBLE_EQ(tokens[5].number, 2.5e-3);
  EXPECT_EQ(tokens[6].type, Token::Type::kFloat);
  EXPECT_EQ(tokens[8].text, ".");
  EXPECT_EQ(tokens[9].type, Token::Type::kInteger);  // after a dot, `0` is an index, not the start of a float
}

TEST(ChatTemplateLexer, EndOfTagOnlyWhereBracketsBalance) {
  EXPECT_EQ(render_syntax("{{ {'a': {'b': 'c'}}['a']['b'] }}"), "c");
  EXPECT_EQ(render_syntax("{{ '%}' ~ '}}' }}"), "%}}}");
}

TEST(ChatTemplateWhitespace, TrimBlocksDropsTheNewlineAfterABlockTag) {
  EXPECT_EQ(render_syntax("{% if true %}\nx\n{% endif %}\ny"), "x\ny");
  EXPECT_EQ(render_syntax("{# note #}\nz"), "z");
  EXPECT_EQ(render_syntax("{{ 'v' }}\nw"), "v\nw");  // not after an expression
  EXPECT_EQ(render_syntax("{% if true +%}\nx{% endif %}"), "\nx");
}

TEST(ChatTemplateWhitespace, LstripBlocksDropsIndentationOnlyBeforeALineStartingTag) {
  EXPECT_EQ(render_syntax("a\n    {% if true %}b{% endif %}"), "a\nb");
  EXPECT_EQ(render_syntax("  {% if true %}b{% endif %}"), "b");  // the template's first line
  EXPECT_EQ(render_syntax("a  {% if true %}b{% endif %}"), "a  b");
  EXPECT_EQ(render_syntax("{{ 'x' }}  {% if true %}b{% endif %}"), "x  b");
  EXPECT_EQ(render_syntax("a\n  {%+ if true %}b{% endif %}"), "a\n  b");
  EXPECT_EQ(render_syntax("a\n  {{ 'b' }}"), "a\n  b");  // expressions keep their indentation
  EXPECT_EQ(render_syntax("\t{# c #}\nd"), "d");
}

TEST(ChatTemplateWhitespace, DashStripsEveryBlankBesideTheTag) {
  EXPECT_EQ(render_syntax("a \n {%- if true -%} \n b \n {%- endif -%} \n c"), "abc");
  EXPECT_EQ(render_syntax("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(render_syntax("a {#- c -#} b"), "ab");
  EXPECT_EQ(render_syntax("a\xe3\x80\x80{{- 'b' }}"), "ab");  // U+3000 is whitespace to Python's rstrip()
}

TEST(ChatTemplateWhitespace, NewlinesAreNormalizedAndOneTrailingNewlineDropped) {
  EXPECT_EQ(render_syntax("a\r\nb\rc\n"), "a\nb\nc");
  EXPECT_EQ(render_syntax("a\n\n"), "a\n");
}

TEST(ChatTemplateWhitespace, RawBlocksAreText) {
  EXPECT_EQ(render_syntax("{% raw %}{{ x }} {% if %}{% endraw %}"), "{{ x }} {% if %}");
  EXPECT_EQ(render_syntax("{% raw -%}  a  {%- endraw %}"), "a");
}

TEST(ChatTemplateParser, FollowsJinjaPrecedence) {
  EXPECT_EQ(render_syntax("{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }}"), "7 9 64 4");
  EXPECT_EQ(render_syntax("{{ 'a' ~ 2 * 3 }}"), "a6");  // ~ binds looser than * but tighter than +
  EXPECT_EQ(render_syntax("{{ not 1 == 2 }} {{ not x is defined }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}"), "True True True False");
  EXPECT_EQ(render_syntax("{{ -3 | abs }} {{ [3, 1] | sort | first }}"), "3 1");
  EXPECT_EQ(render_syntax("{{ 'a' if false else 'b' if false else 'c' }}"), "c");
  EXPECT_EQ(render_syntax("{{ 'x' 'y' }}"), "xy");  // adjacent literals concatenate
  EXPECT_EQ(render_syntax("{{ 9 is divisibleby 3 }} {{ 1 is sameas true }}"), "True False");
}

TEST(ChatTemplateParser, UnsupportedConstructsNameThemselvesAndTheirPosition) {
  EXPECT_EQ(parse_error("ok\n  {% include 'other.jinja' %}"),
            "chat template line 2, column 6: unsupported construct '{% include %}': templates that load other "
            "templates are not supported");
  EXPECT_NE(parse_error("{% extends 'base' %}").find("unsupported construct '{% extends %}'"), std::string::npos);
  EXPECT_NE(parse_error("{% import 'm' as m %}").find("unsupported construct '{% import %}'"), std::string::npos);
  EXPECT_NE(parse_error("{% block b %}{% endblock %}").find("'{% block %}'"), std::string::npos);
  EXPECT_NE(parse_error("{% frobnicate %}").find("unsupported construct '{% frobnicate %}': unknown tag"),
            std::string::npos);
  EXPECT_EQ(parse_error("{{ x | wordwrap }}"),
            "chat template line 1, column 8: unsupported construct: filter 'wordwrap' is not implemented (or not a "
            "jinja2 filter)");
  EXPECT_NE(parse_error("{{ x is frobbed }}").find("test 'frobbed' is not implemented"), std::string::npos);
  EXPECT_NE(parse_error("{% for x in y recursive %}{% endfor %}").find("'recursive' for loops"), std::string::npos);
  EXPECT_NE(parse_error("{% call x %}{% endcall %}").find("{% call %} needs a macro call"), std::string::npos);
}

TEST(ChatTemplateParser, SyntaxErrorsSayWhatWasExpected) {
  EXPECT_EQ(parse_error("{% if x %}\nabc"),
            "chat template line 1, column 4: 'if' is never closed (expected 'endif' before the end of the template)");
  EXPECT_EQ(parse_error("{% for x in y %}\n{% endif %}"),
            "chat template line 2, column 4: unexpected '{% endif %}': expected 'endfor' to close the 'for' at line 1, "
            "column 4");
  EXPECT_NE(parse_error("{% endfor %}").find("with no open block"), std::string::npos);
  EXPECT_NE(parse_error("{{ 'abc }}").find("unterminated string literal"), std::string::npos);
  EXPECT_NE(parse_error("{{ x ? y }}").find("unexpected character '?'"), std::string::npos);
  EXPECT_NE(parse_error("{{ x").find("never closed by `}}`"), std::string::npos);
  EXPECT_NE(parse_error("{# note").find("missing end of comment tag"), std::string::npos);
  EXPECT_NE(parse_error("{{ (1 ]}}").find("unexpected ']', expected ')'"), std::string::npos);
  EXPECT_NE(parse_error("{% break %}").find("'break' outside of a for loop"), std::string::npos);
  EXPECT_NE(parse_error("{% set true = 1 %}").find("can't assign to the constant 'true'"), std::string::npos);
  EXPECT_NE(parse_error("{{ }}").find("expected an expression, found end of expression '}}'"), std::string::npos);
  EXPECT_NE(parse_error("{{ 1 + }}").find("where an expression should start"), std::string::npos);
}

}  // namespace
