// Which worker carries a new association. The kernel's SO_REUSEPORT hash picks the worker that
// reads an association's COMM_UP; with the handful of associations a signalling network has, that
// often leaves one worker with most of them (8 over 2 workers split 6/2 or worse 29% of the time,
// and 4 Diameter peers all land on one worker 1 time in 8). So the accepting worker admits the
// association, peels it off onto its own socket, and, when another worker carries fewer, hands it
// over: the socket, what its COMM_UP said, and whatever of it had already been read (it came in
// the same batch as the COMM_UP, before the association had a socket of its own), in order. What
// the kernel still holds for it moved to that socket with it. Nothing of it is read by two loops.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sctp/socket.h"

namespace sctprelay::relay {

class Relay;

// A newly accepted association on its way to the worker that will carry it.
struct HandedOver {
  std::string listener;
  sctp::Socket socket;  // its own (peeled off the listener's)
  sctp::AssocChange change;  // its COMM_UP
  std::vector<sctp::Address> peers;
  std::vector<sctp::Received> early;  // read before it was peeled off; each owns its bytes (`data`)
  unsigned from = 0;                  // the worker that accepted it
  unsigned to = 0;                    // the worker that carries it
};

// An item of a receive batch that outlives the batch: its bytes copied into `data`.
sctp::Received owned_copy(const sctp::Received& item);

class Placement {
 public:
  explicit Placement(unsigned workers) : carried_(workers) {}

  // Where a new association that worker `by` accepted goes, counted there from now on: the worker
  // carrying the fewest, `by` itself on a tie (or when it cannot move).
  unsigned place(unsigned by, bool can_move) {
    unsigned best = by;
    if (can_move) {
      std::size_t least = carried_[by].load(std::memory_order_relaxed);
      for (unsigned i = 0; i < carried_.size(); ++i)
        if (std::size_t n = carried_[i].load(std::memory_order_relaxed); n < least) {
          least = n;
          best = i;
        }
    }
    carried_[best].fetch_add(1, std::memory_order_relaxed);
    return best;
  }
  // One that worker `worker` carried has ended (or never arrived).
  void left(unsigned worker) { carried_[worker].fetch_sub(1, std::memory_order_relaxed); }
  std::size_t carried(unsigned worker) const { return carried_[worker].load(std::memory_order_relaxed); }

  // Runs `work` on worker `to`'s loop with its relay (set by Workers before any relay runs).
  std::function<void(unsigned to, std::function<void(Relay&)> work)> run_on;

 private:
  std::vector<std::atomic<std::size_t>> carried_;  // accepted associations per worker
};

}  // namespace sctprelay::relay
