// Fuzz target: the dsmoe command line. The input, cut at NUL bytes, is argv after "dsmoe"; it is parsed with
// every subcommand's flags and validators (ranges, NaN, lists) and nothing is run. A parse error is the
// expected outcome of bad arguments; help requests are too.
#include <string>
#include <vector>

#include "app.h"
#include "core/errors.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // a command line, not a file
  std::vector<std::string> args{"dsmoe"};
  for (const std::string_view part : dsmoe::fuzz::split_input(data, size, 64)) args.emplace_back(part);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  // One app for the process, cleared before each parse (building it takes milliseconds; a parse microseconds).
  static const auto app = dsmoe::cli::make_app();
  app->app.clear();
  try {
    dsmoe::cli::check_single_dash_words(int(argv.size()), argv.data());
    app->app.parse(int(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
  } catch (const dsmoe::Error&) {
  }
  return 0;
}
