#include "harness/daemon.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <sstream>
#include <stdexcept>

namespace harness {

Daemon::Daemon(const std::string& yaml, const std::string& log_level)
    : Daemon(yaml, DaemonOptions{.log_level = log_level}) {}

Daemon::Daemon(const std::string& yaml, const DaemonOptions& options) : answer_(options.answer) {
  if (options.control_socket && yaml.find("\ncontrol:") == std::string::npos) control_ = dir_.path() + "/control.sock";
  config_path_ = dir_.write("sctprelayd.yaml", with_control(yaml));
  std::vector<std::string> argv = options.wrapper;
  argv.insert(argv.end(), {SCTPRELAYD_BIN, "--config", config_path_, "--log-level", options.log_level});
  proc_ = std::make_unique<Process>(argv);
  if (!proc_->wait_line("configuration " + config_path_ + " loaded", Deadline::in(options.startup))) {
    std::string report = proc_->sanitizer_report();
    throw std::runtime_error("sctprelayd did not start" + (report.empty() ? "" : ":\n" + report));
  }
}

Daemon::~Daemon() {
  // A graceful exit runs LeakSanitizer's check (in a sanitizer build); SIGKILL would skip it. A
  // daemon that is still draining queues after the grace period is killed (and not checked).
  if (proc_->running()) {
    proc_->signal(SIGTERM);
    proc_->wait_exit(Deadline::in(std::chrono::seconds(3)));
  }
  proc_->expect_no_sanitizer_report();
}

std::string Daemon::with_control(const std::string& yaml) const {
  if (control_.empty() || yaml.find("\ncontrol:") != std::string::npos) return yaml;
  return yaml + "\ncontrol: {socket: " + control_ + "}\n";
}

bool Daemon::reload(const std::string& yaml) {
  dir_.write("sctprelayd.yaml", with_control(yaml));
  std::size_t from = proc_->mark();
  proc_->signal(SIGHUP);
  Deadline d = Deadline::in(answer_);
  auto line = proc_->wait_line("reload ", d, from);
  while (line && proc_->lines()[*line].find("reload applied") == std::string::npos &&
         proc_->lines()[*line].find("reload rejected") == std::string::npos)
    line = proc_->wait_line("reload ", d, *line + 1);
  if (!line) throw std::runtime_error("sctprelayd did not answer SIGHUP");
  return proc_->lines()[*line].find("reload applied") != std::string::npos;
}

std::map<std::string, uint64_t> Daemon::stats() {
  std::size_t from = proc_->mark();
  proc_->signal(SIGUSR1);
  auto line = proc_->wait_line("stats: ", Deadline::in(answer_), from);
  if (!line) throw std::runtime_error("sctprelayd did not report stats");
  std::map<std::string, uint64_t> out;
  std::istringstream in(proc_->lines()[*line].substr(proc_->lines()[*line].find("stats: ") + 7));
  std::string kv;
  while (in >> kv) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stoull(kv.substr(eq + 1));
  }
  return out;
}

bool Daemon::wait_stat(const std::string& key, uint64_t at_least, Deadline d) {
  while (stats()[key] < at_least) {
    if (d.passed()) return false;
    // Counters change only through events; ask again after the next log line or 100 ms.
    proc_->wait_line("\n", Deadline::in(std::chrono::milliseconds(100)), proc_->mark());
  }
  return true;
}

std::optional<int> Daemon::stop(Deadline d) {
  proc_->signal(SIGTERM);
  auto status = proc_->wait_exit(d);
  proc_->expect_no_sanitizer_report();
  return status;
}

uint16_t ports_for_test() {
  // CTest runs each test in its own process, so a counter would restart: derive the block from the
  // test's name instead (stable, and distinct for distinct tests with overwhelming likelihood).
  auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return static_cast<uint16_t>(20000 + (h % 2000) * 20);
}

}  // namespace harness
