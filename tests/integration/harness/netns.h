// Network namespaces for tests that need real, separate network paths (multi-homing, failover):
// created with `ip netns`, joined by veth pairs, removed with everything in them at the end.
// Needs root and iproute2: inside the project's VM the tests run as root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace harness {

// Why namespaces cannot be used here ("not root", "no ip(8)"), or empty when they can.
std::string netns_unavailable();

// Runs a command to completion and returns its output (stdout and stderr, lines joined with
// '\n'); throws std::runtime_error with that output if it fails.
std::string run_command(const std::vector<std::string>& argv);

// A named network namespace (`ip netns add`), its loopback up; deleted again by the destructor.
class Netns {
 public:
  explicit Netns(std::string name);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  // Runs a command inside the namespace (`ip netns exec`); returns its output.
  std::string exec(const std::vector<std::string>& argv) const;
  // Sets a sysctl of this namespace, e.g. set_sysctl("net.sctp.rto_min", "100").
  void set_sysctl(const std::string& key, const std::string& value) const;
  // `ip link set <dev> up|down` inside the namespace.
  void link(const std::string& dev, bool up) const;
  // Bytes received so far by interface `dev` in this namespace.
  uint64_t rx_bytes(const std::string& dev) const;

 private:
  std::string name_;
};

// One end of a veth pair: its namespace, interface name and address with prefix ("192.0.2.1/24").
struct VethEnd {
  const Netns& ns;
  std::string dev;
  std::string address;
};
// Creates a veth pair between two namespaces, addresses both ends and brings them up. The pair
// goes away with its namespaces.
void add_veth(const VethEnd& a, const VethEnd& b);

// Shapes what `dev` in `ns` sends with netem, e.g. {"delay", "20ms", "rate", "8mbit"}
// (`tc qdisc add dev DEV root netem ...`). Gone with the interface.
void add_netem(const Netns& ns, const std::string& dev, const std::vector<std::string>& params);

// While alive, this thread is inside `ns`: sockets it opens and processes it starts live there
// (a socket stays in its namespace for good). The destructor returns the thread to where it was.
class NetnsScope {
 public:
  explicit NetnsScope(const Netns& ns);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int saved_fd_ = -1;
};

// Runs `f` inside `ns` and returns its result (for making one socket there).
template <typename F>
auto in_netns(const Netns& ns, F f) {
  NetnsScope scope(ns);
  return f();
}

}  // namespace harness
