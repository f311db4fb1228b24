// Rebuilds the messages a dying association hands back. The kernel reports one SEND_FAILED per
// DATA chunk, so a message larger than the path MTU comes back in pieces; the pieces of one
// message come one after another (marked first/last), but messages come in teardown order. Each
// message went out with its send sequence number as its context: that puts them back in order.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "relay/out_queue.h"
#include "sctp/socket.h"

namespace sctprelay::relay {

class Redelivery {
 public:
  // One handed-back piece.
  void add(const sctp::SendFailed& piece, Clock::time_point now);
  // The whole messages rebuilt so far, sorted by send sequence; a message whose pieces carry no
  // first/last marks (older kernels) is taken as ending where the next one begins.
  std::vector<QueuedMessage> take();
  // Messages that came back without all their pieces since the last call (never resent: a piece
  // is not a message).
  std::size_t take_incomplete() { return std::exchange(incomplete_, 0); }

 private:
  struct Building {
    QueuedMessage msg;
    bool has_first = false;
    bool marked = false;  // first/last flags known
  };
  void finish(bool complete);

  std::optional<Building> building_;
  std::vector<QueuedMessage> done_;
  std::size_t incomplete_ = 0;
};

}  // namespace sctprelay::relay
