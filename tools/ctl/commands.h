// Running one sctprelayctl command: the request, the call, the output and the exit status. The
// socket, the clock and sleeping come in through Env so that tests can stand in for them.
#pragma once

#include <chrono>
#include <functional>
#include <ostream>

#include "control/client.h"
#include "ctl/json_view.h"
#include "ctl/options.h"

namespace sctprelay::ctl {

struct Env {
  std::ostream& out;
  std::ostream& err;
  // One request, one answer (control::call on the socket in real life).
  std::function<control::CallResult(const json& request)> call;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::steady_clock::time_point()> now;
  bool pretty_json = false;  // --json output indented (stdout is a terminal)
};

// The request line a command sends (version sends status).
json make_request(const Options& o);

// Runs the command; returns the exit status (exit_codes.h). Never throws.
int run(const Options& o, Env& env);

// Env on the real socket (o.socket, o.timeout_s), clock, sleep and stdout/stderr.
Env real_env(const Options& o);

}  // namespace sctprelay::ctl
