// sctprelayctl as the operator runs it, against a test's daemon (Daemon::ctl) or any socket.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/daemon.h"

namespace harness {

// What one run of sctprelayctl printed, and its exit status.
struct CtlResult {
  int status = -1;
  std::string out;
  std::string err;
  nlohmann::json json;  // stdout parsed, when it is JSON (else discarded)
};

// Runs sctprelayctl --socket SOCKET ARGS... and takes all it printed.
CtlResult run_ctl(const std::string& socket, const std::vector<std::string>& args, Deadline d = soon());

// In a JSON list of objects (status's listeners, assocs' associations, ...), the first whose `key`
// equals `value`, or nullptr.
inline const nlohmann::json* find_named(const nlohmann::json& list, const std::string& key, const nlohmann::json& value) {
  if (!list.is_array()) return nullptr;
  for (auto& item : list)
    if (item.contains(key) && item[key] == value) return &item;
  return nullptr;
}

}  // namespace harness
