// dsmoe: a DeepSeek-MoE inference engine. `dsmoe --help` lists the subcommands.
#include <filesystem>
#include <iostream>

#include "app.h"
#include "dsmoe/error.h"
#include "dsmoe/threads.h"

namespace {

// Input errors (a file, a key, a flag) exit 1; anything else is a bug of ours and exits 2.
int report_error(const std::exception& error, bool input_error) {
  std::cerr << (input_error ? "dsmoe: error: " : "dsmoe: internal error: ") << error.what() << "\n";
  return input_error ? 1 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::unique_ptr<dsmoe::cli::DsmoeApp> d = dsmoe::cli::make_app();
  try {
    dsmoe::cli::check_single_dash_words(argc, argv);
  } catch (const dsmoe::Error& e) {
    return report_error(e, true);
  }
  try {
    d->app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return d->app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return d->app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return d->app.exit(e);
  } catch (const CLI::ParseError& e) {
    dsmoe::cli::report_parse_error(*d, e);
    return 1;
  }
  dsmoe::set_num_threads(d->threads);
  try {
    for (auto& [sub, handler] : d->handlers) {
      if (sub->parsed()) return handler();
    }
  } catch (const std::filesystem::filesystem_error& e) {
    return report_error(e, true);
  } catch (const dsmoe::Error& e) {
    return report_error(e, true);
  } catch (const std::exception& e) {
    return report_error(e, false);
  }
  return 1;
}
