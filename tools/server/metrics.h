// GET /metrics: Prometheus' text format. Requests by route and status, tokens prefilled, reused from a slot's
// cache and generated, the queue and the slots in use.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "server/slot_scheduler.h"

namespace dsmoe::server {

class Metrics {
 public:
  void count_request(const std::string& route, int status);
  std::string prometheus(const SchedulerStats& scheduler) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, int64_t> requests_;  // (route, status) -> count
};

}  // namespace dsmoe::server
