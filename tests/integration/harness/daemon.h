// The real sctprelayd binary under test, started with a config written to a temp dir.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/process.h"

namespace harness {

// How a test starts the daemon. The defaults are those of Daemon(yaml).
struct DaemonOptions {
  std::string log_level = "info";
  // A command the daemon runs under, its own command line appended (e.g. valgrind and its options).
  std::vector<std::string> wrapper;
  // How long to wait for it to apply its configuration, and for an answer to a signal (stats,
  // reload): a daemon under valgrind in the emulated VM is many times slower.
  std::chrono::milliseconds startup = std::chrono::seconds(20);
  std::chrono::milliseconds answer = std::chrono::seconds(20);
  // Give it a control socket in its temp dir (added to the config unless it names one).
  bool control_socket = true;
};

struct CtlResult;  // harness/ctl.h

class Daemon {
 public:
  // Starts the daemon and waits until it has applied `yaml` (throws if it does not).
  explicit Daemon(const std::string& yaml, const std::string& log_level = "info");
  Daemon(const std::string& yaml, const DaemonOptions& options);
  // Stops the daemon with SIGTERM if it still runs (SIGKILL if it does not exit within a few
  // seconds), so that LeakSanitizer gets to check it at exit, and fails the test if its output
  // holds a sanitizer report.
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Process& process() { return *proc_; }
  const std::string& config_path() const { return config_path_; }
  std::size_t mark() const { return proc_->mark(); }
  bool saw(const std::string& needle, Deadline d = soon(), std::size_t from = 0) {
    return proc_->wait_line(needle, d, from).has_value();
  }

  // The control socket's path (empty when DaemonOptions::control_socket was false).
  const std::string& control_socket() const { return control_; }
  // sctprelayctl against this daemon: ctl({"routes", "--json"}).
  CtlResult ctl(const std::vector<std::string>& args, Deadline d = soon());  // harness/ctl.cpp

  // Rewrites the config file (its control socket kept), nothing more.
  void write_config(const std::string& yaml) { dir_.write("sctprelayd.yaml", with_control(yaml)); }
  // Rewrites the config file and sends SIGHUP; returns true if the reload was applied, false if it
  // was rejected (either way the daemon says so in one line).
  bool reload(const std::string& yaml);
  // Current counters (SIGUSR1 makes the daemon log them).
  std::map<std::string, uint64_t> stats();
  // Polls the counters until `key` reaches `at_least` or the deadline passes.
  bool wait_stat(const std::string& key, uint64_t at_least, Deadline d = soon());
  // SIGTERM; the exit status, or nothing if it did not exit in time. A sanitizer report in the
  // daemon's output fails the test.
  std::optional<int> stop(Deadline d = soon());

 private:
  std::string with_control(const std::string& yaml) const;

  TempDir dir_;
  std::string config_path_;
  std::string control_;
  std::chrono::milliseconds answer_;
  std::unique_ptr<Process> proc_;
};

// A port block for one test: tests never share ports, so one test's leftovers cannot disturb another.
uint16_t ports_for_test();

}  // namespace harness
