// Where a chat template comes from and what it is rendered with: tokenizer_config.json's chat_template (a
// string, or a list whose "default" HF uses) and the variables apply_chat_template passes (special tokens as
// strings, messages, tools/documents as None, add_generation_prompt, caller's extras). Also the dsmoe
// template command: the prompt printed exactly, bad input an error with exit status 1.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_dsmoe.h"

#include "core/errors.h"
#include "support/bad_input.h"
#include "dsmoe/chat_template.h"

namespace {

using dsmoe::chat_template_context;
using dsmoe::chat_template_source;
using nlohmann::json;
using nlohmann::ordered_json;

TEST(ChatTemplateSource, StringOrNamedListWithDefault) {
  EXPECT_EQ(chat_template_source(json{{"chat_template", "{{ x }}"}}), "{{ x }}");
  EXPECT_FALSE(chat_template_source(json{{"bos_token", "<s>"}}).has_value());
  EXPECT_FALSE(chat_template_source(json{{"chat_template", nullptr}}).has_value());
  const json listed = json::parse(R"({"chat_template": [{"name": "tool_use", "template": "T"},
                                                         {"name": "default", "template": "D"}]})");
  EXPECT_EQ(chat_template_source(listed), "D");
  const json no_default = json::parse(R"({"chat_template": [{"name": "rag", "template": "R"}]})");
  try {
    chat_template_source(no_default);
    FAIL() << "a list without a default template must be an error";
  } catch (const dsmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("(rag) but none named \"default\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(chat_template_source(json{{"chat_template", 3}}), dsmoe::Error);
}

TEST(ChatTemplateContext, SpecialTokensAsStringsAndHfDefaults) {
  const json config = json::parse(R"({
    "bos_token": {"__type": "AddedToken", "content": "<｜begin▁of▁sentence｜>", "lstrip": false},
    "eos_token": "</s>", "pad_token": null, "unk_token": "<unk>",
    "additional_special_tokens": ["<a>", {"content": "<b>"}], "model_max_length": 4096})");
  const json messages = json::parse(R"([{"role": "user", "content": "hi"}])");
  const json context = chat_template_context(config, messages, true);
  EXPECT_EQ(context["bos_token"], "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(context["eos_token"], "</s>");
  EXPECT_EQ(context["unk_token"], "<unk>");
  EXPECT_FALSE(context.contains("pad_token"));  // unset tokens are not in special_tokens_map
  EXPECT_FALSE(context.contains("model_max_length"));
  EXPECT_EQ(context["additional_special_tokens"], json::parse(R"(["<a>", "<b>"])"));
  EXPECT_EQ(context["messages"], messages);
  EXPECT_TRUE(context["tools"].is_null());
  EXPECT_TRUE(context["documents"].is_null());
  EXPECT_EQ(context["add_generation_prompt"], true);

  const json extra = json::parse(R"({"tools": [{"name": "f"}], "enable_thinking": false, "eos_token": "<e>"})");
  const json with_extra = chat_template_context(config, messages, false, extra);
  EXPECT_EQ(with_extra["tools"][0]["name"], "f");
  EXPECT_EQ(with_extra["enable_thinking"], false);
  EXPECT_EQ(with_extra["eos_token"], "<e>");  // the caller's variables win, as kwargs do in HF
  EXPECT_THROW(chat_template_context(config, json::object(), false), dsmoe::Error);
}

TEST(ChatTemplateContext, OrderedJsonKeepsKeyOrderForTojson) {
  const ordered_json messages = ordered_json::parse(R"([{"role": "user", "content": "x", "args": {"z": 1, "a": 2}}])");
  const std::string source = "{{ messages[0].args | tojson }}";
  const ordered_json ordered = chat_template_context(json::object(), messages, false);
  EXPECT_EQ(dsmoe::render_chat_template(source, ordered), R"({"z": 1, "a": 2})");  // as json.loads keeps it
  const json sorted = chat_template_context(json::object(), json::parse(messages.dump()), false);
  EXPECT_EQ(dsmoe::render_chat_template(source, sorted), R"({"a": 2, "z": 1})");
}

TEST(ChatTemplateContext, RendersDeepSeekMoeFormat) {
  const std::string path = std::string(DSMOE_SOURCE_DIR) + "/tests/chat_template/deepseek_moe_chat.jinja";
  std::ifstream in(path);
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(source.empty()) << path;
  const json config = json::parse(R"({"bos_token": "<BOS>", "eos_token": "<EOS>"})");
  const json messages = json::parse(R"([{"role": "system", "content": "S"}, {"role": "user", "content": "U1"},
                                        {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}])");
  EXPECT_EQ(dsmoe::render_chat_template(source, chat_template_context(config, messages, true)),
            "<BOS>S\n\nUser: U1\n\nAssistant: A1<EOS>User: U2\n\nAssistant:");
  EXPECT_EQ(dsmoe::render_chat_template(source, chat_template_context(config, messages, false)),
            "<BOS>S\n\nUser: U1\n\nAssistant: A1<EOS>User: U2\n\n");
}

using dsmoe::testing::CommandRun;
using dsmoe::testing::run_dsmoe;

class TemplateCommand : public ::testing::Test {
 protected:
  // One directory per test and process: ctest runs the tests of this suite in parallel.
  dsmoe::bad_input::TempDir temp_;
  std::filesystem::path dir_ = temp_.path();

  void SetUp() override {
    std::filesystem::create_directories(dir_);
    write("tokenizer_config.json", R"({"bos_token": "<s>", "eos_token": "</s>",
      "chat_template": "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"})");
    write("messages.json", R"([{"role": "user", "content": "héllo\n"}])");
    write("vars.json", R"({"messages": [{"role": "user", "content": "x"}], "greeting": "hey"})");
    write("greeting.jinja", "{{ greeting }} {{ messages | length }}{{ eos_token }}\n");
  }

  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
};

TEST_F(TemplateCommand, PrintsThePromptExactly) {
  const CommandRun run = run_dsmoe("template -m " + dir_.string() + " --messages " + path("messages.json"), false);
  EXPECT_EQ(run.status, 0);
  EXPECT_EQ(run.output, "<s>[user]héllo\n");
  const CommandRun gen = run_dsmoe("template --tokenizer-config " + path("tokenizer_config.json") + " --messages " +
                                       path("messages.json") + " --add-generation-prompt",
                                   false);
  EXPECT_EQ(gen.output, "<s>[user]héllo\n[assistant]");
  const CommandRun vars = run_dsmoe(
      "template -m " + dir_.string() + " --template " + path("greeting.jinja") + " --messages " + path("vars.json"),
      false);
  EXPECT_EQ(vars.output, "hey 1</s>");  // the file's trailing newline is dropped, as jinja2 does
}

TEST_F(TemplateCommand, PrefersTheModelsChatTemplateFile) {
  // transformers loads chat_template.jinja over tokenizer_config.json's chat_template.
  write("chat_template.jinja", "file:{{ messages[0].role }}");
  const CommandRun run = run_dsmoe("template -m " + dir_.string() + " --messages " + path("messages.json"), false);
  EXPECT_EQ(run.output, "file:user");
}

TEST_F(TemplateCommand, BadInputIsAnErrorNotACrash) {
  write("no_template.json", R"({"bos_token": "<s>"})");
  write("broken.jinja", "{% for m in messages %}");
  write("raises.jinja", "{{ raise_exception('no system role here') }}");
  const std::string messages = " --messages " + path("messages.json");
  const std::pair<std::string, std::string> cases[] = {
      {"template --tokenizer-config " + path("no_template.json") + messages, "has no chat_template"},
      {"template --template " + path("broken.jinja") + messages, "'for' is never closed"},
      {"template --template " + path("raises.jinja") + messages, "raise_exception: no system role here"},
      {"template --template " + path("greeting.jinja") + " --messages " + path("nonexistent.json"), "cannot open"},
      {"template -m " + path("no_such_model") + messages, "no_such_model"},
  };
  for (const auto& [args, expected] : cases) {
    const CommandRun run = run_dsmoe(args, true);
    EXPECT_EQ(run.status, 1) << args << "\n" << run.output;
    EXPECT_NE(run.output.find(expected), std::string::npos) << args << "\n" << run.output;
  }
}

}  // namespace
