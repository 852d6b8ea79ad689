// dsmoe serve: an OpenAI-compatible HTTP server (tools/server/, docs/server.md) with --parallel slots, each with
// its own KV cache, and a bounded queue. SIGINT or SIGTERM stops it: new requests are refused, queued and running
// generations are cancelled (their streams end properly), and the process exits 0.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "commands.h"
#include "dsmoe/error.h"
#include "dsmoe/model_metadata.h"
#include "flag_checks.h"
#include "generation_options.h"
#include "server/http_server.h"
#include "server/slot_scheduler.h"

namespace dsmoe::cli {
namespace {

struct ServeArgs {
  GenerationOptions generation;
  std::string host = "127.0.0.1";
  int64_t port = 8080;
  int64_t parallel = 4;
  int64_t queue = 64;
  std::string api_key;
  CLI::App* app = nullptr;
};

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

int run_serve(ServeArgs& args) {
  if (args.api_key.empty()) {
    if (const char* key = std::getenv("DSMOE_API_KEY")) args.api_key = key;
  }
  // Run's default of -n (256) limits one answer; a server's answers run to the end token unless a request says.
  if (args.app->count("-n") == 0) args.generation.max_new_tokens = -1;
  LoadedModel loaded = load_for_generation(args.generation);
  server::ServerModel model;
  model.model = loaded.model.get();
  model.tokenizer = loaded.tokenizer;
  model.tokenizer_config = loaded.tokenizer->config_json();
  if (auto source = find_chat_template(loaded.model->path(), model.tokenizer_config)) model.chat_template.emplace(*source);
  model.sampling = args.generation.sampling;
  model.max_tokens = args.generation.max_new_tokens;
  model.stop = args.generation.stop_strings;
  model.end_tokens = loaded.end_tokens;
  model.context = loaded.context;
  const std::filesystem::path path(loaded.model->path());
  model.id = (path.has_filename() ? path.filename() : path.parent_path().filename()).string();

  server::SlotScheduler scheduler(*loaded.model, *loaded.tokenizer, loaded.end_tokens, args.parallel, loaded.context,
                                  args.queue);
  server::ServerOptions options;
  options.host = args.host;
  options.port = int(args.port);
  options.api_key = args.api_key;
  options.http_threads = args.parallel + args.queue + 4;  // every stream waiting or running holds a thread
  server::HttpServer http(model, scheduler, loaded.end_tokens, options);
  const int port = http.bind();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::cerr << "dsmoe serve: " << model.id << " on http://" << args.host << ":" << port << " (" << args.parallel
            << " slots of " << loaded.context << " tokens, queue " << args.queue
            << (args.api_key.empty() ? "" : ", API key required") << ")" << std::endl;
  // httplib's stop() is not safe in a signal handler: a watcher thread does it when the handler has set the flag.
  std::thread watcher([&] {
    while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    scheduler.shut_down();
    http.drain(10000);  // the cancelled streams write their last events first
    http.stop();
  });
  http.listen();
  g_stop.store(true);
  watcher.join();
  std::cerr << "dsmoe serve: stopped" << std::endl;
  return 0;
}

}  // namespace

Handler add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  args->app = &app;
  add_generation_options(app, args->generation);
  app.add_option("--host", args->host, "address to listen on")->capture_default_str();
  app.add_option("--port", args->port, "port to listen on (0: any free port, printed)")
      ->capture_default_str()
      ->check(integer_in(0, 65535));
  app.add_option("--parallel", args->parallel, "slots: requests generated at once, each with its own KV cache of -c")
      ->capture_default_str()
      ->check(integer_in(1, 256));
  app.add_option("--queue", args->queue, "requests that may wait for a slot before new ones get 503")
      ->capture_default_str()
      ->check(integer_in(0, 4096));
  app.add_option("--api-key", args->api_key, "require Authorization: Bearer KEY (default: $DSMOE_API_KEY)");
  return [args] { return run_serve(*args); };
}

}  // namespace dsmoe::cli
