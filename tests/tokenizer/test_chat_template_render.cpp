// Chat template evaluation: Python's value semantics (str/repr, arithmetic, slicing by code point),
// jinja2's scoping and Undefined, filters, tests, methods and HF's globals. Expected strings are what
// jinja2 3.1 renders for the same source under HF's environment.
#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"
#include "dsmoe/chat_template.h"

namespace {

using dsmoe::ChatTemplate;
using nlohmann::ordered_json;

std::string render(const std::string& source, const ordered_json& context = ordered_json::object()) {
  return ChatTemplate(source).render(context);
}

std::string render_error(const std::string& source, const ordered_json& context = ordered_json::object()) {
  try {
    render(source, context);
  } catch (const dsmoe::Error& e) {
    return e.what();
  }
  return "";
}

const ordered_json kMessages = ordered_json::parse(R"({"messages": [
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": "Hi"},
  {"role": "assistant", "content": "Hello", "tool_calls": null},
  {"role": "user", "content": "Bye"}]})");

TEST(ChatTemplateValues, PrintLikePythonStr) {
  EXPECT_EQ(
      render("{{ none }} {{ true }} {{ False }} {{ 42 }} {{ 1.0 }} {{ 1e16 }} {{ 1e15 }} {{ 1e-05 }} {{ 0.0001 }}"),
      "None True False 42 1.0 1e+16 1000000000000000.0 1e-05 0.0001");
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ -0.0 }} {{ 2.5e-7 }}"),
            "0.30000000000000004 0.3333333333333333 -0.0 2.5e-07");
  EXPECT_EQ(render("{{ [1, 'a', none, true, 1.5] }} {{ {'k': 'v'} }} {{ (1,) }} {{ () }} {{ (1, 2) }}"),
            "[1, 'a', None, True, 1.5] {'k': 'v'} (1,) () (1, 2)");
  EXPECT_EQ(render(R"({{ ["it's", 'say "hi"', 'both \' "', 'tab\t', '\u200b', '\x7f', 'é'] }})"),
            R"(["it's", 'say "hi"', 'both \' "', 'tab\t', '\u200b', '\x7f', 'é'])");
  EXPECT_EQ(render("{{ namespace(a=1) }}"), "<Namespace {'a': 1}>");
}

TEST(ChatTemplateValues, ArithmeticFollowsPython) {
  EXPECT_EQ(render("{{ 7 / 2 }} {{ 8 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }}"),
            "3.5 4.0 3 -4 1 2 -2");
  EXPECT_EQ(render("{{ 7.5 % 2 }} {{ -7.5 // 2 }} {{ 2 ** -1 }} {{ true + 1 }} {{ 'ab' * 2 }} {{ [0] * 2 }}"),
            "1.5 -4.0 0.5 2 abab [0, 0]");
  EXPECT_EQ(render("{{ [1] + [2] }} {{ 'a' ~ 1 ~ none ~ undefined }}"), "[1, 2] a1None");
  EXPECT_NE(render_error("{{ 1 / 0 }}").find("division by zero"), std::string::npos);
  EXPECT_NE(render_error("{{ 1 + 'a' }}").find("unsupported operand type(s) for +: 'int' and 'str'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 'a' + 1 }}").find("can only concatenate str (not \"int\") to str"), std::string::npos);
  EXPECT_NE(render_error("{{ 2 ** 100 }}").find("integer overflow"), std::string::npos);
  // ~ binds tighter than +, so this is ('a' ~ 1) + 2.
  EXPECT_NE(render_error("{{ 'a' ~ 1 + 2 }}").find("can only concatenate str"), std::string::npos);
}

TEST(ChatTemplateValues, ComparisonsMembershipAndBooleanOperators) {
  EXPECT_EQ(render("{{ 1 == 1.0 }} {{ true == 1 }} {{ [1, 2] < [1, 3] }} {{ 'B' < 'a' }} {{ {'a': 1} == {'a': 1} }}"),
            "True True True True True");
  EXPECT_EQ(render("{{ 'ell' in 'hello' }} {{ 2 not in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 'x' in nothing }}"),
            "True False True False");
  EXPECT_EQ(render("{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ none or 0 }} {{ [] or {} or 'last' }}"), "x b 0 last");
  EXPECT_NE(render_error("{{ 1 < 'a' }}").find("'<' not supported between instances of 'int' and 'str'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ 1 in 'abc' }}").find("requires string as left operand, not int"), std::string::npos);
}

TEST(ChatTemplateValues, StringsIndexAndSliceByCodePoint) {
  EXPECT_EQ(render("{{ 'héllo'[1] }} {{ 'héllo'[-1] }} {{ 'héllo' | length }} {{ 'héllo wörld'[::2] }}"),
            "é o 5 hlowrd");
  EXPECT_EQ(render("{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ 'hello'[:-1] }} {{ [1, 2, 3, 4, 5][1::2] }}"),
            "el olleh hell [2, 4]");
  EXPECT_EQ(render("[{{ 'abc'[10:] }}] [{{ [1, 2][5] }}] {{ (1, 2, 3)[:2] }}"), "[] [] (1, 2)");
}

TEST(ChatTemplateValues, UndefinedIsEmptyFalsyAndRaisesWhenLookedInto) {
  EXPECT_EQ(render("[{{ missing }}] {{ missing is defined }} {{ missing | default('d') }} {{ missing | length }}"),
            "[] False d 0");
  EXPECT_EQ(render("{% for x in missing %}x{% else %}empty{% endfor %} {{ 'y' if missing else 'n' }}"), "empty n");
  EXPECT_EQ(render("[{{ messages[0].nope }}] {{ messages[9] is defined }}", kMessages), "[] False");
  EXPECT_EQ(render_error("{{ missing.attr }}"), "chat template line 1, column 12: 'missing' is undefined");
  EXPECT_NE(render_error("{{ messages[0].nope.deeper }}", kMessages).find("'dict object' has no attribute 'nope'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ missing + 1 }}").find("'missing' is undefined"), std::string::npos);
}

TEST(ChatTemplateValues, AttributesPreferMethodsAndSubscriptsPreferItems) {
  EXPECT_EQ(render("{{ {'items': 5}['items'] }} {{ {'a': 1}.items() | list }} {{ d.get('x', 'dflt') }}",
                   ordered_json{{"d", ordered_json::object()}}),
            "5 [('a', 1)] dflt");
  EXPECT_EQ(render("{{ m.role }} {{ m['role'] }} {{ none_value.anything is defined }}",
                   ordered_json{{"m", {{"role", "user"}}}, {"none_value", nullptr}}),
            "user user False");
}

TEST(ChatTemplateScoping, LoopsScopeTheirSetsAndNamespacesCarryState) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1, 2] %}[{{ x }}]{% set x = i * 10 %}[{{ x }}]{% endfor %}{{ x }}"),
            "[1][10][1][20]1");
  EXPECT_EQ(render("{% if true %}{% set x = 5 %}{% endif %}{{ x }}"), "5");
  EXPECT_EQ(
      render("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
      "3");
  EXPECT_NE(render_error("{% set d = {} %}{% set d.a = 1 %}").find("cannot assign attribute on non-namespace object"),
            std::string::npos);
}

TEST(ChatTemplateScoping, LoopVariable) {
  EXPECT_EQ(render("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
                   "{{ loop.first }}{{ loop.last }}{{ loop.length }} {% endfor %}"),
            "1032TrueFalse3 2121FalseFalse3 3210FalseTrue3 ");
  EXPECT_EQ(render("{% for x in [1, 2, 3, 4] if x is even %}{{ loop.index }}/{{ loop.length }}={{ x }} {% endfor %}"),
            "1/2=2 2/2=4 ");
  EXPECT_EQ(
      render("{% for x in range(5) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 3 %}{% break %}{% endif %}"
             "{{ x }}{{ loop.cycle('a', 'b') }}{% endfor %}"),
      "0a2a");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }}{{ ',' if not loop.last }}{% endfor %}"),
            "a=1,b=2");
  EXPECT_EQ(
      render("{% for x in [1, 2] %}{{ loop.previtem | default('-') }}{{ loop.nextitem | default('-') }}{% endfor %}"),
      "-21-");
}

TEST(ChatTemplateScoping, MacrosWithBlocksAndSetBlocks) {
  EXPECT_EQ(render("{% macro m(a, b='B') %}{{ a }}-{{ b }}{% endmacro %}{{ m(1) }} {{ m(1, 2) }} {{ m(b=3, a=4) }}"),
            "1-B 1-2 4-3");
  EXPECT_EQ(render("{% macro show() %}{{ v }}{% endmacro %}{% set v = 'late' %}{{ show() }}"), "late");
  EXPECT_EQ(render("{% with a = 1 %}{{ a }}{% endwith %}[{{ a }}]"), "1[]");
  EXPECT_EQ(render("{% set s | upper %}  body {% endset %}[{{ s }}]{% filter trim %}  x  {% endfilter %}"),
            "[  BODY ]x");
  EXPECT_NE(render_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").find("takes not more than 1 argument"),
            std::string::npos);
  EXPECT_EQ(render("{% macro wrap(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}"
                   "{% set x = 'site' %}{% call wrap('b') %}{{ x }}{% endcall %}"),
            "<b>site</b>");
  EXPECT_EQ(render("{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}"
                   "{% call(v) each([1, 2]) %}({{ v }}){% endcall %}"),
            "(1)(2)");
  EXPECT_EQ(
      render("{% macro f(a, b=2, c=3) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ f(*[7, 8]) }} {{ f(1, **{'c': 9}) }}"),
      "783 129");
}

TEST(ChatTemplateFilters, TextAndNumbers) {
  EXPECT_EQ(render("[{{ '  x \n' | trim }}] {{ 'hello wORLD' | capitalize }} {{ \"it's a-b (c)\" | title }}"),
            "[x] Hello world It's A-B (C)");
  EXPECT_EQ(render("{{ 'aaa' | replace('a', 'b', 2) }} {{ 'Straße' | upper }} {{ '42.9' | int }} {{ 'x' | int(7) }}"),
            "bba STRASSE 42 7");
  EXPECT_EQ(render("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 1.2345 | round(2, 'floor') }} {{ 7 | "
                   "round }}"),
            "2.0 4.0 2.67 1.23 7");
  EXPECT_EQ(render("[{{ 'l1\nl2\n\nl4' | indent(2) }}] [{{ 'a' | indent(first=true) }}]"),
            "[l1\n  l2\n\n  l4] [    a]");
  EXPECT_EQ(render("{{ '<a href=\"x\">&' | e }} {{ '%s-%03d' % ('a', 7) }} {{ '%s!' | format('hi') }}"),
            "&lt;a href=&#34;x&#34;&gt;&amp; a-007 hi!");
}

TEST(ChatTemplateFilters, Sequences) {
  const ordered_json people =
      ordered_json::parse(R"({"people": [{"name": "Bob", "age": 30}, {"name": "al", "age": 25}]})");
  EXPECT_EQ(
      render("{{ people | map(attribute='name') | join(',') }} {{ people | sort(attribute='age') | first }}", people),
      "Bob,al {'name': 'al', 'age': 25}");
  EXPECT_EQ(render("{{ people | selectattr('age', 'gt', 26) | map(attribute='name') | list }} "
                   "{{ people | rejectattr('name', 'equalto', 'al') | list | length }}",
                   people),
            "['Bob'] 1");
  EXPECT_EQ(render("{{ ['b', 'A', 'a'] | unique | list }} {{ ['b', 'C', 'a'] | sort }} {{ [3, 1] | reverse | list }} "
                   "{{ {'b': 1, 'A': 2} | dictsort }} {{ [1, 2.5] | sum }} {{ ['b', 'A'] | max }}"),
            "['b', 'A'] ['a', 'b', 'C'] [1, 3] [('A', 2), ('b', 1)] 3.5 b");
  // Filters jinja2 writes as generators: always truthy, no len(), not printable.
  EXPECT_EQ(
      render("{{ 'yes' if [1] | select('even') else 'no' }} {{ 'yes' if [1] | select('even') | list else 'no' }}"),
      "yes no");
  EXPECT_NE(render_error("{{ [1] | select('odd') | length }}").find("object of type 'generator' has no len()"),
            std::string::npos);
  EXPECT_NE(render_error("{{ [1] | map('string') }}").find("cannot print a generator"), std::string::npos);
}

TEST(ChatTemplateFilters, ToJsonIsPythonJsonDumpsWithoutAsciiEscapes) {
  const ordered_json context = ordered_json::parse(R"({"v": {"b": [1, 2.0, null, true], "a": "é \"q\" \n", "e": {}}})");
  EXPECT_EQ(render("{{ v | tojson }}", context), R"({"b": [1, 2.0, null, true], "a": "é \"q\" \n", "e": {}})");
  EXPECT_EQ(
      render("{{ v | tojson(indent=2) }}", context),
      "{\n  \"b\": [\n    1,\n    2.0,\n    null,\n    true\n  ],\n  \"a\": \"é \\\"q\\\" \\n\",\n  \"e\": {}\n}");
  EXPECT_EQ(render("{{ v.b | tojson(separators=(',', ':')) }} {{ v | tojson(sort_keys=true) | length }}", context),
            "[1,2.0,null,true] 55");
  EXPECT_EQ(render("{{ 'é😀<>&' | tojson }} {{ 'é😀' | tojson(ensure_ascii=true) }} {{ 1e20 | tojson }}"),
            R"("é😀<>&" "\u00e9\ud83d\ude00" 1e+20)");
}

TEST(ChatTemplateMethods, StringMethods) {
  EXPECT_EQ(render("[{{ ' x '.strip() }}] {{ 'xxhixx'.strip('x') }} {{ 'a,b'.split(',') }} {{ ' a  b '.split() }}"),
            "[x] hi ['a', 'b'] ['a', 'b']");
  EXPECT_EQ(render("{{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'x</think>y'.split('</think>')[-1] }}"),
            "['a', 'b c'] ['a b', 'c'] y");
  EXPECT_EQ(render("{{ 'tool_x'.startswith(('a', 'tool')) }} {{ 'héllo'.find('l') }} {{ 'aaaa'.count('aa') }} "
                   "{{ '{} {name}'.format(1, name='n') }} {{ '-'.join(['a', 'b']) }} {{ 'ab'.title() }}"),
            "True 2 2 1 n a-b Ab");
  EXPECT_NE(render_error("{{ [1].append(2) }}").find("unsafe"), std::string::npos);
}

TEST(ChatTemplateGlobals, RaiseExceptionRangeNamespaceDict) {
  EXPECT_EQ(render("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ dict(a=1) }} {{ namespace(x=2).x }}"),
            "[0, 1, 2] [1, 3, 5] {'a': 1} 2");
  EXPECT_EQ(render_error("{{ raise_exception('Roles must alternate') }}"),
            "chat template line 1, column 19: raise_exception: Roles must alternate");
  EXPECT_EQ(render("{{ strftime_now('%Y') | length }}"), "4");
  EXPECT_NE(render_error("{{ range(200000) | length }}").find("Range too big"), std::string::npos);
}

TEST(ChatTemplateGlobals, TemplateIsParsedOnceAndRendersManyTimes) {
  const ChatTemplate chat("{% for m in messages %}{{ m.role }};{% endfor %}");
  EXPECT_EQ(chat.render(kMessages), "system;user;assistant;user;");
  EXPECT_EQ(chat.render(ordered_json{{"messages", ordered_json::array()}}), "");
}

}  // namespace
