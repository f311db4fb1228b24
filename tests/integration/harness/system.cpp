#include "harness/system.h"

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness/netns.h"

namespace harness {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value << '\n';
  out.close();
  if (!out) throw std::runtime_error("cannot write " + value + " to " + path);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

ScopedSysctl::ScopedSysctl(std::string key, const std::string& value) {
  for (auto& c : key)
    if (c == '.') c = '/';
  path_ = "/proc/sys/" + key;
  old_ = trimmed(read_file(path_));
  write_file(path_, value);
}

ScopedSysctl::~ScopedSysctl() {
  try {
    write_file(path_, old_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sysctl restore: %s\n", e.what());
  }
}

ScopedMtu::ScopedMtu(std::string dev, unsigned mtu) : dev_(std::move(dev)) {
  old_ = static_cast<unsigned>(std::stoul(read_file("/sys/class/net/" + dev_ + "/mtu")));
  run_command({"ip", "link", "set", dev_, "mtu", std::to_string(mtu)});
}

ScopedMtu::~ScopedMtu() {
  try {
    run_command({"ip", "link", "set", dev_, "mtu", std::to_string(old_)});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mtu restore: %s\n", e.what());
  }
}

uint64_t proc_status_kib(pid_t pid, const std::string& field) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1));
  throw std::runtime_error("no " + field + " in /proc/" + std::to_string(pid) + "/status");
}

void reset_peak_rss(pid_t pid) { write_file("/proc/" + std::to_string(pid) + "/clear_refs", "5"); }

bool wait_until(const std::function<bool()>& done, Deadline d, std::chrono::milliseconds step) {
  while (!done()) {
    if (d.passed()) return done();
    std::this_thread::sleep_for(std::min(step, std::chrono::milliseconds(std::max(d.poll_ms(), 1))));
  }
  return true;
}

std::pair<int, std::string> shell(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return {-1, out};
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) out.append(buf, n);
  int status = ::pclose(f);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

double metric_sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return -1;
}

}  // namespace harness
