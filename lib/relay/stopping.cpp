// The graceful stop: no new traffic is read; queues drain; the kernel gets every destination's
// data acknowledged (SENDER_DRY); then the sources are SHUTDOWN, and what they had sent before
// (their kernel had it acknowledged: it is the relay's to deliver) is read and routed to the
// destinations, still up; those queues drain and are acknowledged in turn; last, the destinations
// are SHUTDOWN. What is still queued when limits.shutdown_drain runs out is counted as dropped
// (reason "stopped").
#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {

using std::chrono::milliseconds;

void Relay::stop(milliseconds deadline, std::function<void()> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  // No new traffic from outside; what is already queued may still drain, and replies from peers
  // still find their way back.
  for (auto& [_, l] : listeners_) {
    l->stop_hold = true;
    if (l->io) l->io->watch(0);  // none: a reload could not bind it again (listeners.cpp)
  }
  for (Association* a : assocs_.snapshot()) {
    if (a->role == Association::Role::Accepted) {
      a->stop_hold = true;
      a->update_watch();
    } else if (a->reconnect) {
      a->reconnect->disarm();
    }
  }
  stop_timer_ = dispatcher_.timer([this] {
    if (stop_phase_ != StopPhase::ShutdownSent) {
      if (std::size_t left = queued_messages())
        LOG_WARN("stop: drain deadline reached with %zu messages still queued (dropped)", left);
      else if (!awaiting_dry_.empty())
        LOG_WARN("stop: drain deadline reached with %zu destinations still sending", awaiting_dry_.size());
      else if (stop_phase_ == StopPhase::ClosingSources)
        LOG_WARN("stop: drain deadline reached with sources still shutting down");
      send_shutdown();
      check_stopped();
      return;
    }
    LOG_WARN("stop: %zu associations did not finish SHUTDOWN in time", association_count());
    finish_stop();
  });
  stop_timer_->arm(deadline);
  check_stopped();
}

void Relay::await_sender_dry() {
  // The relay's queues are empty; what the kernel still holds for the upstream peers is what
  // remains. SENDER_DRY says when each has it all acknowledged.
  stop_phase_ = StopPhase::AwaitDry;
  for (Association* a : assocs_.snapshot()) {
    if (a->role != Association::Role::Upstream || !a->up) continue;
    std::error_code ec;
    if (a->socket.watch_sender_dry(ec))
      awaiting_dry_.insert(a->id);
    else
      LOG_WARN("stop: %s: cannot watch for SENDER_DRY: %s", a->label.c_str(), ec.message().c_str());
  }
}

void Relay::close_sources() {
  // Each source's SHUTDOWN completes once the relay's kernel has acknowledged all it sent; reading
  // it until then brings in the rest of its messages, while the destinations can still take them.
  stop_phase_ = StopPhase::ClosingSources;
  for (Association* a : assocs_.snapshot())
    if (a->role == Association::Role::Accepted) shut_down_and_read(*a);
}

void Relay::shut_down_and_read(Association& a) {
  if (a.up) a.sock().shutdown(a.assoc);
  a.stop_hold = false;
  a.update_watch();
}

std::size_t Relay::sources_left() const {
  std::size_t n = 0;
  assocs_.for_each([&](const Association& a) { n += a.role == Association::Role::Accepted && !a.retired ? 1 : 0; });
  return n;
}

void Relay::finish_stop() {
  stop_timer_->disarm();
  // What could not be delivered in time is counted, where it waited.
  assocs_.for_each([&](Association& a) {
    if (std::size_t n = a.queue.size()) drop(&a, DropReason::Stopped, n);
  });
  if (stopped_) std::exchange(stopped_, nullptr)();
}

void Relay::send_shutdown() {
  stop_phase_ = StopPhase::ShutdownSent;
  for (Association* a : assocs_.snapshot()) {
    release_held(*a);
    shut_down_and_read(*a);  // SHUTDOWN_COMP arrives on the association's own socket
  }
  // SHUTDOWN takes a round trip; give the peers a moment, then leave regardless.
  stop_timer_->arm(milliseconds(2000));
}

void Relay::check_stopped() {
  if (!stopping_ || !stopped_) return;
  for (;;) {
    const StopPhase before = stop_phase_;
    switch (stop_phase_) {
      case StopPhase::Draining:
        if (queued_messages() == 0) await_sender_dry();
        break;
      case StopPhase::AwaitDry:
        if (!awaiting_dry_.empty()) break;
        if (sources_closed_)
          send_shutdown();
        else
          close_sources();
        break;
      case StopPhase::ClosingSources:
        if (sources_left() == 0) {
          sources_closed_ = true;
          stop_phase_ = StopPhase::Draining;  // what they still sent drains, then the destinations go
        }
        break;
      case StopPhase::ShutdownSent:
        if (association_count() == 0) return finish_stop();
        break;
    }
    if (stop_phase_ == before) return;
  }
}

}  // namespace sctprelay::relay
