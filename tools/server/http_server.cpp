#include "server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "chat_page_html.h"
#include "dsmoe/error.h"
#include "server/openai_response.h"

namespace dsmoe::server {

bool constant_time_equal(const std::string& given, const std::string& expected) {
  unsigned char difference = given.size() != expected.size() ? 1 : 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return difference == 0;
}

struct HttpServer::Impl {
  const ServerModel& model;
  SlotScheduler& scheduler;
  std::vector<int32_t> end_tokens;
  ServerOptions options;
  Metrics metrics;
  httplib::Server http;
  std::atomic<int64_t> next_id{0};
  std::atomic<int64_t> in_flight{0};  // completion requests whose answer is not yet fully written
  int64_t started = std::time(nullptr);

  Impl(const ServerModel& m, SlotScheduler& s, std::vector<int32_t> ends, ServerOptions o)
      : model(m), scheduler(s), end_tokens(std::move(ends)), options(std::move(o)) {}

  void reply_error(httplib::Response& res, const ApiError& error) {
    res.status = error.status;
    if (error.status == 503) res.set_header("Retry-After", "1");
    res.set_content(json_text(error_body(error)), "application/json");
  }

  // Runs a route's body with every failure turned into OpenAI's error object, and counts the answer.
  template <typename Body>
  httplib::Server::Handler route(const std::string& name, Body body) {
    return [this, name, body](const httplib::Request& req, httplib::Response& res) {
      try {
        body(req, res);
      } catch (const ApiError& error) {
        reply_error(res, error);
      } catch (const Error& error) {
        reply_error(res, ApiError(400, error.what()));
      } catch (const std::exception& error) {
        reply_error(res, ApiError(500, error.what(), "", "server_error"));
      }
      metrics.count_request(name, res.status);
    };
  }

  std::string new_id(bool chat) {
    char text[48];
    std::snprintf(text, sizeof text, "%s-%lx%06lx", chat ? "chatcmpl" : "cmpl", long(started), long(next_id++));
    return text;
  }

  void completion(const httplib::Request& req, httplib::Response& res, bool chat) {
    const nlohmann::json body = parse_body(req.body);
    auto parsed = std::make_shared<ParsedRequest>(chat ? parse_chat_request(body, model)
                                                       : parse_completion_request(body, model));
    auto job = std::make_shared<Job>(parsed->job);
    if (!scheduler.submit(job)) {
      throw ApiError(503, "every slot is busy and the queue is full; retry later", "", "server_error");
    }
    // Counted until the answer is written: the last owner of this guard is the handler (a whole answer) or the
    // stream's provider, which httplib drops once the stream has ended.
    ++in_flight;
    const std::shared_ptr<void> counted(nullptr, [this](void*) { --in_flight; });
    auto answer = std::make_shared<Answer>();
    answer->id = new_id(chat);
    answer->created = std::time(nullptr);
    answer->model = parsed->model;
    answer->prompt_tokens = int64_t(parsed->job.prompt.size());
    if (!parsed->stream) {
      for (;;) {
        JobUpdate update = job->take(1000);
        answer->text += update.text;
        answer->logprobs.insert(answer->logprobs.end(), update.logprobs.begin(), update.logprobs.end());
        if (!update.finished) continue;
        if (!update.error.empty()) throw ApiError(500, update.error, "", "server_error");
        answer->stats = update.stats;
        break;
      }
      const Tokenizer& tokenizer = *model.tokenizer;
      res.set_content(json_text(chat ? chat_completion(*answer, *parsed, tokenizer, end_tokens)
                                     : text_completion(*answer, *parsed, tokenizer, end_tokens)),
                      "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    auto first = std::make_shared<bool>(true);
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, job, parsed, answer, first, counted](size_t, httplib::DataSink& sink) {
          JobUpdate update = job->take(100);
          if (!sink.is_writable()) {
            job->cancel();  // the client is gone: the slot is free before its next token
            return false;
          }
          std::string out;
          if (update.finished && !update.error.empty()) {
            out = "data: " + json_text(error_body(ApiError(500, update.error, "", "server_error"))) + "\n\n";
          } else {
            // One event a piece (about a token), as OpenAI streams, even when several came at once; with log
            // probabilities, one event for all that came, so that each token's entry travels with its text.
            std::vector<std::string> pieces = std::move(update.pieces);
            if (parsed->job.top_logprobs >= 0 && pieces.size() > 1) pieces = {update.text};
            if (pieces.empty()) pieces.emplace_back();
            if (update.finished) answer->stats = update.stats;
            for (size_t i = 0; i < pieces.size(); ++i) {
              const bool last = i + 1 == pieces.size();
              answer->text += pieces[i];
              if (*first || !pieces[i].empty() || (last && (!update.logprobs.empty() || update.finished))) {
                out += stream_event(*answer, *parsed, *model.tokenizer, pieces[i],
                                    last ? update.logprobs : std::vector<TokenLogprob>{}, *first,
                                    last && update.finished);
                *first = false;
              }
            }
            if (update.finished && parsed->include_usage) out += stream_usage_event(*answer, *parsed, end_tokens);
          }
          if (update.finished) out += kStreamDone;
          if (!out.empty() && !sink.write(out.data(), out.size())) {
            job->cancel();
            return false;
          }
          if (update.finished) sink.done();
          return true;
        },
        [job](bool success) {
          if (!success) job->cancel();
        });
  }

  void add_routes() {
    http.Get("/", route("/", [](const httplib::Request&, httplib::Response& res) {
               res.set_content(kChatPageHtml, "text/html; charset=utf-8");
             }));
    http.Get("/health", route("/health", [](const httplib::Request&, httplib::Response& res) {
               res.set_content(R"({"status":"ok"})", "application/json");
             }));
    const auto models = route("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
      const ModelInfo info = model.model->info();
      const nlohmann::json entry = {{"id", model.id},
                                    {"object", "model"},
                                    {"created", started},
                                    {"owned_by", "dsmoe"},
                                    {"meta",
                                     {{"n_ctx_slot", model.context},
                                      {"n_ctx_train", info.trained_context},
                                      {"n_vocab", info.vocab_size},
                                      {"n_params", info.parameters},
                                      {"n_active_params", info.active_parameters}}}};
      res.set_content(json_text({{"object", "list"}, {"data", nlohmann::json::array({entry})}}), "application/json");
    });
    http.Get("/v1/models", models);
    http.Get("/models", models);
    const auto chat = route("/v1/chat/completions",
                            [this](const httplib::Request& req, httplib::Response& res) { completion(req, res, true); });
    http.Post("/v1/chat/completions", chat);
    http.Post("/chat/completions", chat);
    const auto text = route("/v1/completions",
                            [this](const httplib::Request& req, httplib::Response& res) { completion(req, res, false); });
    http.Post("/v1/completions", text);
    http.Post("/completions", text);
    http.Get("/metrics", route("/metrics", [this](const httplib::Request&, httplib::Response& res) {
               res.set_content(metrics.prometheus(scheduler.stats()), "text/plain; version=0.0.4");
             }));
    http.Post("/tokenize", route("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
                const nlohmann::json body = parse_body(req.body);
                const auto content = body.find("content");
                if (content == body.end() || !content->is_string()) {
                  throw ApiError(400, "content must be a string", "content");
                }
                const auto special = body.find("add_special");
                if (special != body.end() && !special->is_boolean()) {
                  throw ApiError(400, "add_special must be true or false", "add_special");
                }
                const bool add_special = special != body.end() && special->get<bool>();
                res.set_content(json_text({{"tokens", model.tokenizer->encode(content->get<std::string>(), add_special)}}),
                                "application/json");
              }));
    http.Post("/detokenize", route("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
                const nlohmann::json body = parse_body(req.body);
                const auto tokens = body.find("tokens");
                if (tokens == body.end() || !tokens->is_array()) {
                  throw ApiError(400, "tokens must be a list of token ids", "tokens");
                }
                const int64_t vocab = model.model->info().vocab_size;
                std::vector<int32_t> ids;
                for (const auto& id : *tokens) {
                  if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab) {
                    throw ApiError(400, cat("tokens must be integers in [0, ", vocab, "), found ", id.dump()), "tokens");
                  }
                  ids.push_back(int32_t(id.get<int64_t>()));
                }
                res.set_content(json_text({{"content", model.tokenizer->decode(ids, false)}}), "application/json");
              }));
  }

  void add_guards() {
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (options.api_key.empty() || req.path == "/health" || req.path == "/") {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      if (constant_time_equal(req.get_header_value("Authorization"), "Bearer " + options.api_key)) {
        return httplib::Server::HandlerResponse::Unhandled;
      }
      res.set_header("WWW-Authenticate", "Bearer");
      reply_error(res, ApiError(401, "a valid API key is needed: Authorization: Bearer KEY", "",
                                "invalid_request_error", "invalid_api_key"));
      metrics.count_request(req.path, 401);
      return httplib::Server::HandlerResponse::Handled;
    });
    // What no route answered (404, 405) or httplib refused (413 for a body over the limit), as OpenAI's error.
    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const std::string message = res.status == 404   ? "no route for " + req.method + " " + req.path
                                  : res.status == 413 ? "the request body is too large"
                                                      : cat("HTTP status ", res.status);
      reply_error(res, ApiError(res.status, message));
    });
    http.set_payload_max_length(size_t(16) << 20);
    const size_t threads = size_t(options.http_threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  }
};

HttpServer::HttpServer(const ServerModel& model, SlotScheduler& scheduler, std::vector<int32_t> end_tokens,
                       ServerOptions options)
    : impl_(std::make_unique<Impl>(model, scheduler, std::move(end_tokens), std::move(options))) {
  impl_->add_guards();
  impl_->add_routes();
}

HttpServer::~HttpServer() = default;

int HttpServer::bind() {
  const ServerOptions& o = impl_->options;
  const int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host)
                               : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) fail("serve: cannot listen on ", o.host, ":", o.port, " (in use, or not an address of this machine)");
  return port;
}

void HttpServer::listen() { impl_->http.listen_after_bind(); }

void HttpServer::drain(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void HttpServer::stop() { impl_->http.stop(); }

}  // namespace dsmoe::server
