// Pieces for fault tests: a source in a process of its own that a test can kill -9 mid-stream, the
// descriptors a process holds, and the kernel's SCTP counters (retransmissions and the like).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "harness/netns.h"
#include "harness/process.h"

namespace harness {

// How many descriptors process `pid` has open (the entries of /proc/PID/fd).
std::size_t open_fds(pid_t pid);

// The kernel's SCTP counters (/proc/net/sctp/snmp, e.g. "SctpT3Retransmits") of the test's own
// network namespace, or of `ns`.
std::map<std::string, uint64_t> sctp_snmp();
std::map<std::string, uint64_t> sctp_snmp(const Netns& ns);

// A source in a python3 process of its own: a one-to-one SCTP socket connects to 127.0.0.1:port
// and sends message 0, 1, 2, ... as fast as it can until it has sent `count` (or is killed).
// Message n is payload(size, seq_base + n, stream) on stream first_stream + n % streams with PPID
// `ppid`: the same bytes harness::payload() makes, so a test can check each one.
//
// A killed process's socket is closed by the kernel: with a graceful SHUTDOWN when nothing is left
// unread, with an ABORT when the socket has SO_LINGER with a zero timeout (`abort_on_close`) or
// holds data nobody read (`hold_replies`: what comes back is never read, and the process prints
// "unread reply" once something is waiting, so a test can kill it knowing the kernel will ABORT).
class KillableSource {
 public:
  struct Spec {
    uint16_t port = 0;
    uint64_t seq_base = 0;
    uint16_t first_stream = 0;
    uint16_t streams = 1;
    uint32_t ppid = 0;
    std::size_t size = 300;
    uint64_t count = 100000000;
    bool abort_on_close = false;
    bool hold_replies = false;
  };

  // Starts the process and waits for its association to come up (throws if it does not).
  explicit KillableSource(const Spec& spec);

  Process& process() { return *proc_; }
  pid_t pid() const { return proc_->pid(); }
  const Spec& spec() const { return spec_; }

  // Message n as sent: its bytes and stream.
  std::string message(uint64_t n) const;
  uint16_t stream(uint64_t n) const { return static_cast<uint16_t>(spec_.first_stream + n % spec_.streams); }

 private:
  Spec spec_;
  std::unique_ptr<Process> proc_;
};

}  // namespace harness
