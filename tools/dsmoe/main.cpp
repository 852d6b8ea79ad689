// dsmoe: a DeepSeek-MoE inference engine. `dsmoe --help` lists the subcommands.
#include <filesystem>
#include <iostream>

#include "app.h"
#include "core/errors.h"
#include "core/parallel.h"

int main(int argc, char** argv) {
  const std::unique_ptr<dsmoe::cli::DsmoeApp> d = dsmoe::cli::make_app();
  try {
    dsmoe::cli::check_single_dash_words(argc, argv);
  } catch (const dsmoe::Error& e) {
    std::cerr << "dsmoe: error: " << e.what() << "\n";
    return 1;
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
    std::cerr << "dsmoe: error: " << e.what() << "\n";
    return 1;
  } catch (const dsmoe::Error& e) {
    std::cerr << "dsmoe: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "dsmoe: internal error: " << e.what() << "\n";
    return 2;
  }
  return 1;
}
