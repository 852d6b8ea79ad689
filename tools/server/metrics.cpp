#include "server/metrics.h"

#include <sstream>

namespace dsmoe::server {
namespace {

void metric(std::ostringstream& out, const char* name, const char* type, const char* help, int64_t value) {
  out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n" << name << " " << value << "\n";
}

}  // namespace

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
}

std::string Metrics::prometheus(const SchedulerStats& s) const {
  std::ostringstream out;
  out << "# HELP dsmoe_requests_total HTTP requests answered, by route and status.\n"
      << "# TYPE dsmoe_requests_total counter\n";
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, count] : requests_) {
      out << "dsmoe_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << count << "\n";
    }
  }
  metric(out, "dsmoe_prompt_tokens_total", "counter", "Prompt tokens prefilled.", s.prompt_tokens);
  metric(out, "dsmoe_cached_prompt_tokens_total", "counter", "Prompt tokens reused from a slot's KV cache.",
         s.reused_tokens);
  metric(out, "dsmoe_generated_tokens_total", "counter", "Tokens generated.", s.generated_tokens);
  metric(out, "dsmoe_jobs_finished_total", "counter", "Generations finished (completed, stopped or cancelled).",
         s.jobs_finished);
  metric(out, "dsmoe_queue_length", "gauge", "Requests waiting for a slot.", s.queued);
  metric(out, "dsmoe_queue_capacity", "gauge", "Requests that may wait before new ones get 503.", s.queue_capacity);
  metric(out, "dsmoe_slots_busy", "gauge", "Slots generating now.", s.busy_slots);
  metric(out, "dsmoe_slots_total", "gauge", "Slots, each with its own KV cache (--parallel).", s.slots);
  return out.str();
}

}  // namespace dsmoe::server
