// dsmoe run: work in progress (issue 3).
#include "commands.h"
#include "core/errors.h"

namespace dsmoe::cli {

Handler add_run_command(CLI::App& app) {
  app.allow_extras();
  return [] () -> int { fail("run: not implemented yet (issue 3)"); };
}

}  // namespace dsmoe::cli
