// Chat templates as an attacker would write them (issue 14): nesting that would overflow the parser's or the
// renderer's stack, loops that would run for hours, and strings, lists and outputs of gigabytes. Each must
// end at once in an Error naming the limit (src/jinja/jinja_limits.h), and the limits must not touch what
// real templates do (the render tests against jinja2 cover those).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "support/bad_input.h"
#include "dsmoe/chat_template.h"

namespace dsmoe {
namespace {

using bad_input::expect_error_containing;

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string render_limited(const std::string& source) { return render_chat_template(source, nlohmann::json::object()); }

void expect_refused(const std::string& source, std::initializer_list<std::string> parts) {
  const auto start = std::chrono::steady_clock::now();
  expect_error_containing([&] { render_limited(source); }, parts);
  // "At once": seconds at most, sanitizers included (the step budget of a million takes about two).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(TemplateLimits, NestingThatWouldOverflowTheStackIsRefused) {
  expect_refused(repeat("{% if true %}", 10000) + "x" + repeat("{% endif %}", 10000),
                 {"blocks nested deeper than 100 levels"});
  expect_refused("{{ " + repeat("(", 100000) + "1" + repeat(")", 100000) + " }}",
                 {"expression nested deeper than 100 levels"});
  expect_refused("{{ " + repeat("[", 100000) + repeat("]", 100000) + " }}", {"nested deeper than 100"});
  expect_refused("{{ " + repeat("- ", 100000) + "1 }}", {"nested deeper than 100"});
  expect_refused("{{ " + repeat("not ", 100000) + "x }}", {"nested deeper than 100"});
  expect_refused("{{ " + repeat("f(", 100000) + repeat(")", 100000) + " }}", {"nested deeper than 100"});
  // Chains are parsed in a loop but evaluated recursively: their depth counts too.
  expect_refused("{{ 1" + repeat(" + 1", 100000) + " }}", {"expression nested deeper than 256 levels"});
  expect_refused("{{ 'a'" + repeat(" | lower", 100000) + " }}", {"nested deeper than 256"});
  expect_refused("{{ x" + repeat(".a", 100000) + " }}", {"nested deeper than 256"});
  expect_refused("{% filter lower" + repeat(" | lower", 100000) + " %}x{% endfilter %}", {"nested deeper than 256"});
}

TEST(TemplateLimits, NestingWithinTheLimitsRenders) {
  EXPECT_EQ(render_limited(repeat("{% if true %}", 99) + "x" + repeat("{% endif %}", 99)), "x");
  EXPECT_EQ(render_limited("{{ " + repeat("(", 90) + "7" + repeat(")", 90) + " }}"), "7");
  EXPECT_EQ(render_limited("{{ 0" + repeat(" + 1", 200) + " }}"), "200");
}

TEST(TemplateLimits, ALoopThatWouldRunForHoursStopsAtTheStepBudget) {
  // The step budget stops it in about a second; under the sanitizers on a loaded machine the 10 s clock may
  // come first (600,000 steps were seen), which is the same refusal.
  expect_refused("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                 {"rendering took more than"});
  // The exponent is done by squaring: 1 ** 10^18 is one answer, not 10^18 multiplications.
  EXPECT_EQ(render_limited("{{ 1 ** 1000000000000000000 }}"), "1");
  EXPECT_EQ(render_limited("{{ (-1) ** 1000000000000000001 }}"), "-1");
  EXPECT_EQ(render_limited("{{ 3 ** 39 }}"), "4052555153018976267");
  expect_refused("{{ 3 ** 40 }}", {"**"});
}

TEST(TemplateLimits, StepsOnStringsOfMegabytesStopAtTheClock) {
  // Within the step budget, but every round copies 60 MB: a quarter of a million rounds would take minutes.
  expect_refused("{% set y = 'a' * 60000000 %}{% for i in range(1000) %}{% for j in range(1000) %}"
                 "{% set z = y ~ '' %}{% endfor %}{% endfor %}",
                 {"rendering took more than 10 seconds"});
}

TEST(TemplateLimits, StringsListsAndOutputOfGigabytesAreRefusedBeforeTheyAreBuilt) {
  expect_refused("{{ 'ab' * 1000000000000 }}", {"'*' would build a string of 2000000000000 bytes"});
  expect_refused("{{ [1, 2] * 1000000000000 }}", {"'*' would build a list of 2000000000000 items"});
  expect_refused("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
                 {"'~' would build a string"});
  expect_refused("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
                 {"'+' would build a string"});
  expect_refused("{{ '%999999999999d' % 1 }}", {"a '%' format width or precision would build a string"});
  expect_refused("{{ 'x' | center(1000000000000) }}", {"str.center would build a string"});
  expect_refused("{{ 'x'.ljust(1000000000000) }}", {"str.ljust would build a string"});
  expect_refused("{{ 'a\\nb' | indent(1000000000000) }}", {"indent would build a string"});
  expect_refused("{{ ('a' * 1000000) | replace('a', 'b' * 100000) }}", {"str.replace would build a string"});
  expect_refused("{{ ('a' * 100000) | replace('', 'b' * 100000) }}", {"str.replace would build a string"});
  expect_refused("{{ (['x' * 1000000] * 100) | join('y' * 1000000) }}", {"join would build a string"});
  expect_refused("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", {"the template's output would build"});
}

// Found by fuzz/chat_template.cpp: a start or end that is not an integer reached std::get and escaped as
// std::bad_variant_access (the CLI's "internal error"). Python raises a TypeError; so does the engine.
TEST(TemplateLimits, NonIntegerSliceIndicesAreTypeErrors) {
  for (const char* source : {"{{ 'abc'.startswith('a', 'x') }}", "{{ 'abc'.endswith('c', 0, 1.5) }}",
                             "{{ 'abc'.find('b', []) }}", "{{ 'abc'.count('a', {}) }}"}) {
    expect_refused(source, {"slice indices must be integers or None"});
  }
  EXPECT_EQ(render_limited("{{ 'abc'.startswith('b', 1) }} {{ 'abc'.find('c', true) }} {{ 'abc'.count('a', none) }}"),
            "True 2 1");
}

// Found by fuzz/chat_template.cpp: an index of digits past int64 reached std::stoll / std::stoul, whose
// std::out_of_range escaped as an internal error. jinja2 reads map's attribute path with int() (no element has
// that index: undefined) and Python refuses the format field with this ValueError.
TEST(TemplateLimits, IndexesPastInt64) {
  EXPECT_EQ(render_limited("{{ [[1]] | map(attribute='99999999999999999999') | select('defined') | list | length }} "
                           "{{ [{'a': [2]}] | map(attribute='a.99999999999999999999', default='d') | list }}"),
            "0 ['d']");
  // Looking into a miss raises, as for any index (jinja2: UndefinedError "'dict object' has no attribute 'b'").
  expect_refused("{{ [{'a': 1}] | map(attribute='b.99999999999999999999') | list }}",
                 {"'dict object' has no attribute 'b'"});
  expect_refused("{{ '{99999999999999999999}'.format() }}", {"Too many decimal digits in format string"});
  EXPECT_EQ(render_limited("{{ '{1}{0}'.format('a', 'b') }}"), "ba");
}

}  // namespace
}  // namespace dsmoe
