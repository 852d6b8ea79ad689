// dsmoe template: work in progress (issue 3).
#include "commands.h"
#include "core/errors.h"

namespace dsmoe::cli {

Handler add_template_command(CLI::App& app) {
  app.allow_extras();
  return [] () -> int { fail("template: not implemented yet (issue 3)"); };
}

}  // namespace dsmoe::cli
