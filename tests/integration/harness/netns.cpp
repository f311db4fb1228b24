#include "harness/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "harness/process.h"

namespace harness {

namespace {

std::string joined(const std::vector<std::string>& argv) {
  std::string s;
  for (auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

bool ip_available() {
  for (const char* dir : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (::access(dir, X_OK) == 0) return true;
  return false;
}

}  // namespace

std::string netns_unavailable() {
  if (::geteuid() != 0) return "not running as root (network namespaces need root; run the test in the VM)";
  if (!ip_available()) return "ip(8) from iproute2 is not installed";
  return "";
}

std::string run_command(const std::vector<std::string>& argv) {
  Process p(argv, Process::Options{.stdin_pipe = false, .merge_stderr = true, .echo = false});
  auto status = p.wait_exit(soon());
  std::string out;
  for (auto& l : p.lines()) out += (out.empty() ? "" : "\n") + l;
  if (status == 0) return out;
  throw std::runtime_error("`" + joined(argv) + "` " +
                           (status ? "exited with status " + std::to_string(*status) : "did not finish") + ":\n" + out);
}

Netns::Netns(std::string name) : name_(std::move(name)) {
  run_command({"ip", "netns", "add", name_});
  try {
    exec({"ip", "link", "set", "lo", "up"});
  } catch (...) {
    run_command({"ip", "netns", "del", name_});
    throw;
  }
}

Netns::~Netns() {
  try {
    run_command({"ip", "netns", "del", name_});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "netns cleanup: %s\n", e.what());
  }
}

std::string Netns::exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full{"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full);
}

void Netns::set_sysctl(const std::string& key, const std::string& value) const {
  std::string path = "/proc/sys/" + key;
  for (auto& c : path)
    if (c == '.') c = '/';
  exec({"sh", "-c", "echo " + value + " > " + path});
}

void Netns::link(const std::string& dev, bool up) const {
  run_command({"ip", "-n", name_, "link", "set", dev, up ? "up" : "down"});
}

uint64_t Netns::rx_bytes(const std::string& dev) const {
  // `ip netns exec` mounts the namespace's own /sys.
  std::string out = exec({"cat", "/sys/class/net/" + dev + "/statistics/rx_bytes"});
  return std::stoull(out);
}

void add_veth(const VethEnd& a, const VethEnd& b) {
  run_command({"modprobe", "veth"});  // a module on Debian kernels; nothing to do when built in
  run_command({"ip", "link", "add", a.dev, "netns", a.ns.name(), "type", "veth", "peer", "name", b.dev,
               "netns", b.ns.name()});
  for (const VethEnd* end : {&a, &b}) {
    run_command({"ip", "-n", end->ns.name(), "addr", "add", end->address, "dev", end->dev});
    end->ns.link(end->dev, true);
  }
}

void add_netem(const Netns& ns, const std::string& dev, const std::vector<std::string>& params) {
  run_command({"modprobe", "sch_netem"});  // a module on Debian kernels, like veth
  std::vector<std::string> argv{"tc", "qdisc", "add", "dev", dev, "root", "netem"};
  argv.insert(argv.end(), params.begin(), params.end());
  ns.exec(argv);
}

NetnsScope::NetnsScope(const Netns& ns) {
  saved_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_fd_ < 0) throw std::runtime_error(std::string("open own netns: ") + std::strerror(errno));
  std::string path = "/run/netns/" + ns.name();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    std::string err = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    ::close(saved_fd_);
    throw std::runtime_error("enter netns " + ns.name() + ": " + err);
  }
  ::close(fd);
}

NetnsScope::~NetnsScope() {
  if (::setns(saved_fd_, CLONE_NEWNET) != 0)
    std::fprintf(stderr, "netns: cannot return to the original namespace: %s\n", std::strerror(errno));
  ::close(saved_fd_);
}

}  // namespace harness
