// Backpressure: a source whose message lands in a full (or, while its target is up, growing) queue
// stops being read — that association alone — until the queue drains below its low water or the
// target goes away. What stays unread stays in the kernel, where SCTP's flow control slows the
// peer. Both sides keep the other's id (Association::holds / held_sources); this class keeps the
// two lists in step, and nothing else touches them.
#pragma once

#include "relay/association_table.h"
#include "relay/stats.h"

namespace sctprelay::relay {

class Backpressure {
 public:
  Backpressure(AssociationTable& table, Stats& stats) : table_(table), stats_(stats) {}

  // `source` is not read until `target` lets it go.
  void hold(Association& source, Association& target);
  // Every source `target` holds is read again.
  void release(Association& target);
  // ... once its queue is low enough: below half its limits and, while it is up, below the
  // soft limit's low water too.
  void release_if_drained(Association& target);
  // `a` is going away: it holds nobody back any more, and nobody waits for it.
  void forget(Association& a);

 private:
  static bool may_release(const Association& t) {
    return t.queue.below_low_water() && (!t.up || t.queue.below_soft_low_water());
  }
  AssociationTable& table_;
  Stats& stats_;
};

}  // namespace sctprelay::relay
