#include "harness/daemon.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
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

CtlResult run_ctl(const std::string& socket, const std::vector<std::string>& args, Deadline d,
                  const std::string& as_user) {
  TempDir dir;
  auto quote = [](const std::string& a) {
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  std::string cmd = quote(CTL_BIN) + " --socket " + quote(socket);
  for (auto& a : args) cmd += " " + quote(a);
  cmd += " >" + dir.path() + "/out 2>" + dir.path() + "/err; echo \"ctl-exit=$?\"";
  std::vector<std::string> argv{"/bin/sh", "-c", cmd};
  if (!as_user.empty()) {
    // The files must be writable by that user.
    std::string chown = "chmod 0777 " + dir.path();
    if (std::system(chown.c_str()) != 0) throw std::runtime_error("chmod failed");
    argv = {"runuser", "-u", as_user, "--", "/bin/sh", "-c", cmd};
  }
  Process p(argv, Process::Options{.echo = false});
  CtlResult r;
  auto line = p.wait_line("ctl-exit=", d);
  if (!line) throw std::runtime_error("sctprelayctl did not finish: " + cmd);
  r.status = std::stoi(p.lines()[*line].substr(p.lines()[*line].find('=') + 1));
  auto slurp = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(dir.path() + "/out");
  r.err = slurp(dir.path() + "/err");
  r.json = nlohmann::json::parse(r.out, nullptr, false);
  p.wait_exit(d);
  return r;
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
