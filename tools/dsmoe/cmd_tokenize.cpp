// dsmoe tokenize: work in progress (issue 3).
#include "commands.h"
#include "core/errors.h"

namespace dsmoe::cli {

Handler add_tokenize_command(CLI::App& app) {
  app.allow_extras();
  return [] () -> int { fail("tokenize: not implemented yet (issue 3)"); };
}

}  // namespace dsmoe::cli
