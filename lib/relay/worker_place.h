// Where one Relay stands among the daemon's workers (relay/workers.h): its index, how many there
// are, and the little they share. A relay alone (the default, and every unit test) has index 0
// of 1 and shares nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace sctprelay::relay {

class Placement;  // relay/placement.h

// How many associations each listener has up in the whole daemon: listeners[].max_associations
// counts them across every worker. A counter, once made, lives as long as this (reloads keep it).
class SharedCounts {
 public:
  std::atomic<std::size_t>& accepted(const std::string& listener) {
    std::lock_guard lock(mutex_);
    auto& counter = accepted_[listener];
    if (!counter) counter = std::make_unique<std::atomic<std::size_t>>(0);
    return *counter;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<std::atomic<std::size_t>>> accepted_;
};

struct WorkerPlace {
  unsigned index = 0;  // 0 .. count - 1
  unsigned count = 1;
  SharedCounts* shared = nullptr;  // null when alone
  Placement* placement = nullptr;  // null when alone
};

}  // namespace sctprelay::relay
