// sctprelayctl's command line (CLI11 behind parse_args, so that nothing else includes it).
#pragma once

#include <cstdint>
#include <string>

namespace sctprelay::ctl {

enum class Command { Status, Assocs, Routes, Destinations, Reload, Drain, Undrain, Disconnect, Version };

struct Options {
  std::string socket;            // --socket (default: control::default_socket_path())
  bool json = false;             // --json: the daemon's answer as JSON
  double timeout_s = 60;         // --timeout: how long to wait for each answer
  Command command = Command::Status;
  std::string listener;          // assocs --listener
  std::string destination;       // assocs --destination; drain/undrain D
  bool wait = false;             // drain --wait
  double wait_timeout_s = 300;   // drain --wait --timeout
  uint64_t assoc = 0;            // disconnect ASSOC_ID
  bool abort = false;            // disconnect --abort
};

struct ParseResult {
  bool run = false;     // false: print out/err and exit with exit_code (help, version, usage error)
  int exit_code = 0;
  std::string out;      // --help, --version
  std::string err;      // the usage error
  Options options;
};

ParseResult parse_args(int argc, const char* const* argv);

// "sctprelayctl 0.1.0"
std::string ctl_version();

}  // namespace sctprelay::ctl
