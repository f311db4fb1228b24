// `sctprelay-client listen --json --hex` as a destination in a process of its own (so a test can
// stop it with SIGSTOP and kill it with SIGKILL), with what it printed parsed: every message line
// carries the whole payload in hex, so arrivals can be checked byte for byte.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "harness/process.h"
#include "sctp/socket.h"

namespace harness {

// One `message` line of the client's JSON output.
struct PrintedMessage {
  sctp_assoc_t assoc = 0;
  uint16_t stream = 0;
  uint32_t ppid = 0;
  bool unordered = false;
  std::size_t size = 0;  // the size the client reported
  std::string data;      // the payload, decoded from data_hex
};

// The value of `key` in one flat JSON object line as printed by the client: a string's content
// (escapes left as they are) or a number's/boolean's text. Empty if the key is not there.
std::string json_field(const std::string& line, const std::string& key);

// Its output goes through a pipe that only this object reads: call messages() or a wait_*() while
// it is expected to receive, or it stops (blocked printing) once some 64 KiB of output wait.
class ClientSink {
 public:
  // Starts `sctprelay-client listen --json --hex --bind ADDRESS PORT [extra...]` and waits for its
  // `listening` line.
  explicit ClientSink(uint16_t port, std::vector<std::string> extra = {}, const std::string& address = "127.0.0.1");

  Process& process() { return *proc_; }
  pid_t pid() const { return proc_->pid(); }

  // Every message printed so far (reads what the process wrote, without waiting).
  const std::vector<PrintedMessage>& messages();
  // Waits until at least `n` messages have been printed; false if the deadline passed first.
  bool wait_messages(std::size_t n, Deadline d = soon());
  // How many lines of an event ("up", "down", "shutdown", ...) were printed so far.
  std::size_t events(const std::string& event);
  bool wait_events(const std::string& event, std::size_t n, Deadline d = soon());

 private:
  void parse_new_lines();
  std::unique_ptr<Process> proc_;
  std::size_t parsed_ = 0;  // lines of proc_ parsed into messages_ / event_counts_
  std::vector<PrintedMessage> messages_;
  std::vector<std::pair<std::string, std::size_t>> event_counts_;
};

}  // namespace harness
