// An SCTP peer for tests, built on the project's socket layer: a source that connects to the
// relay, or a sink the relay connects to. Blocking calls, each bounded by a deadline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/deadline.h"
#include "sctp/socket.h"

namespace harness {

struct Msg {
  sctprelay::sctp::MessageInfo info;
  std::vector<uint8_t> data;
  std::string text() const { return std::string(data.begin(), data.end()); }
};

class Peer {
 public:
  // A sink: listens on `port` at `addresses`.
  static Peer listen(uint16_t port, std::vector<std::string> addresses = {"127.0.0.1"}, uint16_t streams = 16);
  // A source: starts an association to `port` at `addresses` (bound to `local` if given) and waits
  // for it to come up.
  static Peer connect(uint16_t port, std::vector<std::string> addresses = {"127.0.0.1"},
                      uint16_t streams = 16, std::vector<std::string> local = {});

  Peer() = default;
  Peer(Peer&&) = default;
  Peer& operator=(Peer&&) = default;

  // Waits for an association to come up (COMM_UP); returns its id, 0 on timeout.
  sctp_assoc_t wait_up(Deadline d = soon());
  // Waits for `assoc` (default: the last one up) to go down; true if it did.
  bool wait_down(Deadline d = soon(), sctp_assoc_t assoc = 0);
  sctp_assoc_t assoc() const { return assoc_; }
  uint16_t out_streams() const { return out_streams_; }

  // Sends one message (waits while the socket is full). assoc 0: the last association up.
  bool send(const std::string& data, uint16_t stream = 0, uint32_t ppid = 0, bool unordered = false,
            sctp_assoc_t assoc = 0, Deadline d = soon());
  bool send_bytes(const std::vector<uint8_t>& data, uint16_t stream, uint32_t ppid, bool unordered = false,
                  sctp_assoc_t assoc = 0, Deadline d = soon());

  // Next message, or nothing by the deadline.
  std::optional<Msg> recv(Deadline d = soon());
  // Exactly `n` messages or fewer if the deadline passes first.
  std::vector<Msg> recv_n(std::size_t n, Deadline d = soon());
  // Messages already read (e.g. while waiting for an association to end), without waiting.
  std::vector<Msg> take_received() { return std::exchange(pending_, {}); }
  // True when no message arrives before the deadline (for "nothing else arrives" checks).
  bool quiet_until(Deadline d);

  void shutdown(sctp_assoc_t assoc = 0);
  void abort(sctp_assoc_t assoc = 0);
  void close() { sock_.close(); }
  sctprelay::sctp::Socket& socket() { return sock_; }

  std::vector<sctprelay::sctp::AssocChange> changes;  // every association change seen

 private:
  // Reads one item; messages go to `pending_`. False when nothing came by the deadline.
  bool pump(Deadline d);
  bool wait_writable(Deadline d);
  sctprelay::sctp::Socket sock_;
  sctprelay::sctp::Received rx_;
  std::vector<Msg> pending_;
  sctp_assoc_t assoc_ = 0;
  uint16_t out_streams_ = 0;
};

// A deterministic payload of `size` bytes that names its sequence number and stream.
std::string payload(std::size_t size, uint64_t seq, uint16_t stream = 0);

}  // namespace harness
