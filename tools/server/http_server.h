// dsmoe serve's HTTP side, on cpp-httplib: the OpenAI routes (/v1/chat/completions, /v1/completions, /v1/models),
// /health, /metrics, /tokenize and /detokenize, with an optional API key (Authorization: Bearer, compared in
// constant time) and OpenAI's error object for every failure. Generation happens in the SlotScheduler; a handler
// thread only waits for its job's updates and writes them, as one JSON answer or as server-sent events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/metrics.h"
#include "server/openai_request.h"
#include "server/slot_scheduler.h"

namespace dsmoe::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bind() says which)
  std::string api_key;  // empty: no key needed
  int64_t http_threads = 16;
};

class HttpServer {
 public:
  HttpServer(const ServerModel& model, SlotScheduler& scheduler, std::vector<int32_t> end_tokens,
             ServerOptions options);
  ~HttpServer();
  int bind();     // the port listened on; Error naming host and port when it cannot be had
  void listen();  // serves until stop()
  // Waits (up to timeout_ms) until no completion request is in flight: after SlotScheduler::shut_down() has
  // cancelled their jobs, their last events (finish_reason, [DONE]) are written before stop() closes anything.
  void drain(int timeout_ms);
  void stop();    // from any thread: stops accepting and closes the connections

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Compares a secret without stopping at the first difference, so the time taken does not tell how much of a
// guess was right.
bool constant_time_equal(const std::string& given, const std::string& expected);

}  // namespace dsmoe::server
