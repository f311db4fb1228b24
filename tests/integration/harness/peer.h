// An SCTP peer for tests, built on the project's socket layer: a source that connects to the
// relay, or a sink the relay connects to. Blocking calls, each bounded by a deadline.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

  // The largest message recv() takes whole (default 4 MiB); a larger one is read, discarded and
  // counted in `oversize`.
  void set_max_message(std::size_t bytes) { max_message_ = bytes; }
  // Socket buffers beyond net.core.[rw]mem_max (SO_RCVBUFFORCE/SO_SNDBUFFORCE: needs root, as in
  // the VM). The kernel refuses a message larger than the send buffer (EMSGSIZE), so a test that
  // sends one huge message gives its sender a buffer to match. 0 leaves a buffer as it is.
  void force_buffers(int rcvbuf, int sndbuf);
  std::size_t oversize = 0;  // messages larger than set_max_message() seen and discarded

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
  std::size_t max_message_ = 4u << 20;
};

// A deterministic payload of `size` bytes that names its sequence number and stream.
std::string payload(std::size_t size, uint64_t seq, uint16_t stream = 0);

// What a payload() names at its start: its sequence number and stream. Nothing if `data` does not
// start like one (e.g. a message cut short).
struct PayloadId {
  uint64_t seq;
  uint16_t stream;
};
std::optional<PayloadId> payload_id(std::string_view data);

}  // namespace harness
