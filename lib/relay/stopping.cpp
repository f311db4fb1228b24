// The graceful stop: no new traffic is read; queues drain; the kernel gets every destination's
// data acknowledged (SENDER_DRY); then every association is SHUTDOWN.
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
    l->io->watch(0);
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
      send_shutdown();
      return;
    }
    LOG_WARN("stop: %zu associations did not finish SHUTDOWN in time", association_count());
    if (stopped_) std::exchange(stopped_, nullptr)();
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

void Relay::send_shutdown() {
  stop_phase_ = StopPhase::ShutdownSent;
  for (Association* a : assocs_.snapshot()) {
    release_held(*a);
    if (a->up) a->sock().shutdown(a->assoc);
    // Read again: SHUTDOWN_COMP arrives on the association's own socket.
    a->stop_hold = false;
    a->update_watch();
  }
  // SHUTDOWN takes a round trip; give the peers a moment, then leave regardless.
  stop_timer_->arm(milliseconds(2000));
  check_stopped();
}

void Relay::check_stopped() {
  if (!stopping_) return;
  if (stop_phase_ == StopPhase::Draining && queued_messages() == 0) await_sender_dry();
  if (stop_phase_ == StopPhase::AwaitDry && awaiting_dry_.empty()) send_shutdown();
  if (stop_phase_ == StopPhase::ShutdownSent && association_count() == 0 && stopped_) {
    stop_timer_->disarm();
    std::exchange(stopped_, nullptr)();
  }
}

}  // namespace sctprelay::relay
