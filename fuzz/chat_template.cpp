// Fuzz target: a chat template, then (after a NUL byte) a messages document as `dsmoe template --messages`
// takes it (a list of messages, or an object with "messages" and further variables); parsed and rendered
// under the engine's limits (nesting, steps, output size).
#include "core/errors.h"
#include "fuzz_input.h"
#include "dsmoe/json_file.h"
#include "dsmoe/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = dsmoe::fuzz::split_input(data, size, 2);
  try {
    nlohmann::ordered_json messages = nlohmann::ordered_json::array(
        {{{"role", "system"}, {"content", "Be brief."}}, {{"role", "user"}, {"content", "Hi!"}}});
    nlohmann::ordered_json extra = nlohmann::ordered_json::object();
    if (parts.size() > 1) {
      nlohmann::ordered_json doc =
          dsmoe::parse_ordered_json_text(parts[1].data(), parts[1].data() + parts[1].size(), "messages");
      if (doc.is_array()) {
        messages = std::move(doc);
      } else if (doc.is_object() && doc.contains("messages")) {
        messages = doc["messages"];
        doc.erase("messages");
        extra = std::move(doc);
      } else {
        return 0;  // `dsmoe template` refuses such a document before rendering
      }
    }
    const nlohmann::json config = {{"bos_token", "<s>"}, {"eos_token", "</s>"}};
    const dsmoe::ChatTemplate chat_template{std::string(parts[0])};
    (void)chat_template.render(dsmoe::chat_template_context(config, messages, true, extra));
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
