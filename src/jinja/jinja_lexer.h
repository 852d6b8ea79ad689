// Splits a chat template into text and tag tokens exactly as jinja2's lexer does under HF's settings
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//   - "\r\n" and "\r" become "\n", and one trailing newline of the template is dropped;
//   - `{%- `, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all whitespace after;
//   - trim_blocks: the first newline after `%}` or `#}` is dropped (`+%}` keeps it);
//   - lstrip_blocks: spaces and tabs from the start of a line up to `{%` or `{#` are dropped (`{%+` keeps
//     them), but only when the tag starts the line;
//   - comments vanish; `{% raw %}...{% endraw %}` is text.
// Inside tags it yields names, literals and operators, ending a tag only where brackets balance, so
// `{{ {'a': 1} }}` and `{{ '%}' }}` lex as jinja2 lexes them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsmoe::jinja {

struct SourcePos {
  int line = 1;
  int column = 1;  // 1-based, in bytes of the line
};

struct Token {
  enum class Type {
    kText,           // template text between tags, whitespace control applied
    kVariableBegin,  // {{
    kVariableEnd,    // }}
    kBlockBegin,     // {%
    kBlockEnd,       // %}
    kName,           // identifiers and keywords: for, in, if, not, true, none, ...
    kString,         // a string literal, escapes decoded
    kInteger,
    kFloat,
    kOperator,  // + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { } ;
    kEnd,       // end of the template
  };
  Type type = Type::kEnd;
  std::string text;  // the text, name, operator, or decoded string
  int64_t integer = 0;
  double number = 0.0;
  SourcePos pos;
};

std::vector<Token> lex_template(const std::string& source);

// "line 3, column 14": how errors name a place in the template.
std::string describe(const SourcePos& pos);

}  // namespace dsmoe::jinja
