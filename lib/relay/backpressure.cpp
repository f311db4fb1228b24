// Backpressure (see backpressure.h), and the relay's watch over associations it holds back.
#include <algorithm>

#include "relay/backpressure.h"
#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {

void Backpressure::hold(Association& source, Association& target) {
  if (std::find(target.held_sources.begin(), target.held_sources.end(), source.id) != target.held_sources.end())
    return;
  target.held_sources.push_back(source.id);
  source.holds.push_back(target.id);
  stats_.backpressure_pauses++;
  // A full queue is news; a slow association pausing its sources now and then is routine.
  if (target.queue.full()) {
    target.logged_pause = true;
    LOG_INFO("backpressure: %s queue full (%zu messages); pausing reads from %s", target.label.c_str(),
             target.queue.size(), source.label.c_str());
  } else {
    LOG_DEBUG("backpressure: %s queue growing (%zu messages); pausing reads from %s", target.label.c_str(),
              target.queue.size(), source.label.c_str());
  }
  source.update_watch();
}

void Backpressure::release(Association& target) {
  if (target.held_sources.empty()) return;
  auto sources = std::move(target.held_sources);
  target.held_sources.clear();
  for (uint64_t id : sources) {
    Association* s = table_.find(id);
    if (!s) continue;
    s->holds.erase(std::remove(s->holds.begin(), s->holds.end(), target.id), s->holds.end());
    s->update_watch();
    if (target.logged_pause)
      LOG_INFO("backpressure: %s drained; resuming reads from %s", target.label.c_str(), s->label.c_str());
  }
  target.logged_pause = false;
}

void Backpressure::release_if_drained(Association& target) {
  if (!target.held_sources.empty() && may_release(target)) release(target);
}

void Backpressure::forget(Association& a) {
  release(a);
  for (uint64_t t : a.holds)
    if (Association* target = table_.find(t)) {
      auto& h = target->held_sources;
      h.erase(std::remove(h.begin(), h.end(), a.id), h.end());
    }
  a.holds.clear();
}

// An association that is not read cannot see its own notifications. Once a second (or at once
// when a send to it failed with its end), each held-back or ending association is asked how it
// stands. One whose send failed with its end but that is still established sends again (no queue
// waits for an end that never comes);
// one that is no longer established is read regardless, so its end is seen and what its peer
// sent before it is still forwarded (into queues beyond their limits, by at most what its own
// receive buffer held).
void Relay::check_paused_liveness() {
  std::vector<Association*> ending;
  std::vector<Association*> recovered;
  std::vector<Association*> vanished;
  assocs_.for_each([&](Association& a) {
    if (!a.up || !(a.paused() || a.ending)) return;
    const int state = a.sock().association_state(a.assoc);
    if (a.paused() && state != SCTP_ESTABLISHED) ending.push_back(&a);
    // A send said it was ending, yet it stands: its queue must not wait for an end that never comes.
    if (a.ending && state == SCTP_ESTABLISHED) recovered.push_back(&a);
    // ... or it is gone and no notification said so: it ends here.
    if (a.ending && state < 0 && !a.paused()) vanished.push_back(&a);
  });
  for (Association* a : vanished) {
    if (a->retired || !a->up) continue;
    LOG_WARN("%s: the kernel no longer knows the association: taken as lost", a->label.c_str());
    if (a->role == Association::Role::Accepted)
      accepted_down(*a, "lost (no longer known to the kernel)", true);
    else
      upstream_down(*a, "lost (no longer known to the kernel)", true);
  }
  for (Association* a : recovered) {
    LOG_INFO("%s: still established after a failed send: sending again", a->label.c_str());
    a->ending = false;
    drain(*a);
    a->update_watch();
  }
  for (Association* a : ending) {
    if (a->retired) continue;
    LOG_DEBUG("%s: held back but ending: reading it", a->label.c_str());
    auto holds = std::move(a->holds);
    bool stop_hold = std::exchange(a->stop_hold, false);
    a->holds.clear();
    read_association(*a);
    if (!a->retired) {
      // Holds taken while it was read stay; the earlier ones come back.
      for (uint64_t t : holds)
        if (std::find(a->holds.begin(), a->holds.end(), t) == a->holds.end()) a->holds.push_back(t);
      a->stop_hold = stop_hold;
      a->update_watch();
    }
  }
  liveness_timer_->arm(std::chrono::seconds(1));
  check_stopped();
}

}  // namespace sctprelay::relay
