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

}  // namespace harness
