// Reading one association: its messages go to the router, its notifications to its owner, and a
// message above the size limit meets its listener's policy without ever being held whole.
#include "relay/log_text.h"
#include "relay/relay.h"
#include "util/log.h"

namespace sctprelay::relay {
namespace {

const char* down_reason(uint16_t state) {
  switch (state) {
    case SCTP_COMM_LOST: return "lost (ABORT or path failure)";
    case SCTP_SHUTDOWN_COMP: return "shutdown";
    case SCTP_CANT_STR_ASSOC: return "could not start";
    default: return sctp::assoc_state_name(state);
  }
}

}  // namespace

void Relay::on_association_io(Association& a, uint32_t ready) {
  if (a.retired) return;
  if (ready & event::Writable) {
    a.want_write = false;
    drain(a);
    a.update_watch();
  }
  if ((ready & event::Readable) && !a.paused() && !a.retired) read_association(a);
  check_stopped();
}

void Relay::read_association(Association& a) {
  // Messages are read in batches (one recvmmsg) and what they route to goes out in batches too
  // (one sendmmsg per target), after the batch, in order.
  for (int budget = kReadBudget; budget > 0 && !a.paused() && !a.retired;) {
    a.socket.receive_batch(batch_, cfg_.limits.max_message_size);
    if (batch_.count == 0) {
      if (batch_.status == sctp::RecvStatus::Error)
        LOG_ERROR("%s: receive failed: %s", a.label.c_str(), batch_.ec.message().c_str());
      break;
    }
    for (std::size_t i = 0; i < batch_.count && !a.retired; ++i, --budget) on_item(a, batch_.items[i]);
    flush_staged();
    if (a.role == Association::Role::Upstream) take_back_returned(a);
    if (batch_.drained) break;
  }
}

void Relay::on_item(Association& a, const sctp::Received& item) {
  switch (item.status) {
    case sctp::RecvStatus::Message:
      if (a.refused) {  // read after its ABORT: never forwarded
        drop(&a, DropReason::Refused);
        break;
      }
      stats_.received++;
      a.traffic.messages_in++;
      a.traffic.bytes_in += item.payload.size();
      route_message(a, item.info, item.payload);
      if (a.rate && !a.rate->take(Clock::now())) rate_pause(a);
      break;
    case sctp::RecvStatus::Oversize:
      on_oversize(a, item, false);
      break;
    case sctp::RecvStatus::OverBudget:
      on_oversize(a, item, true);
      break;
    case sctp::RecvStatus::Notification:
      // A notification may end an association that staged sends point at: send them first.
      flush_staged();
      if (a.role == Association::Role::Accepted)
        on_accepted_notification(a, item);
      else
        on_upstream_notification(a, item.notification);
      break;
    default:
      break;
  }
}

void Relay::on_oversize(Association& a, const sctp::Received& item, bool budget) {
  // One line per second at most: a flood of them must not flood the log too.
  const bool log = once_a_second(last_oversize_log_);
  if (budget) {
    drop(&a, DropReason::Reassembly);
    if (log)
      LOG_WARN("%s: stream %u: message dropped: partial messages would exceed limits.max_reassembly_bytes (%zu)",
               a.label.c_str(), item.info.stream, cfg_.limits.max_reassembly_bytes);
    return;
  }
  if (a.role == Association::Role::Accepted && a.oversize == config::OversizePolicy::Abort) {
    stats_.oversize_aborted++;
    LOG_WARN("%s: stream %u: message larger than limits.max_message_size (%zu bytes): association aborted",
             a.label.c_str(), item.info.stream, cfg_.limits.max_message_size);
    a.sock().abort(a.assoc, "message larger than " + std::to_string(cfg_.limits.max_message_size) + " bytes");
    a.end_cause = "aborted: message larger than limits.max_message_size";
    return;  // its COMM_LOST ends it
  }
  drop(&a, DropReason::Oversize);
  if (log)
    LOG_WARN("%s: stream %u: message larger than limits.max_message_size (%zu bytes) dropped", a.label.c_str(),
             item.info.stream, cfg_.limits.max_message_size);
}

void Relay::on_accepted_notification(Association& a, const sctp::Received& item) {
  const sctp::Notification& n = item.notification;
  if (auto* c = std::get_if<sctp::AssocChange>(&n)) {
    switch (c->state) {
      case SCTP_RESTART:
        stats_.assoc_restart++;
        a.out_streams = c->outbound_streams;
        a.in_streams = c->inbound_streams;
        LOG_WARN("%s: restarted by its peer", a.label.c_str());
        break;
      case SCTP_COMM_LOST:
      case SCTP_SHUTDOWN_COMP:
      case SCTP_CANT_STR_ASSOC:
        accepted_down(a, down_reason(c->state), c->state == SCTP_COMM_LOST);
        break;
    }
  } else if (auto* p = std::get_if<sctp::PeerAddrChange>(&n)) {
    on_path_change(a, *p);
    // A peer may add addresses after set-up (ASCONF): each must pass `allow` as the first did.
    if (p->state == SCTP_ADDR_ADDED)
      if (auto l = listeners_.find(a.listener); l != listeners_.end())
        if (Refusal why = admit_added_address(l->second->cfg, p->address)) refuse_admitted(*l->second, a, why);
  } else if (auto* f = std::get_if<sctp::SendFailed>(&n)) {
    // The association is going away and its queue with it; count each message it gave back once.
    if (f->first) drop(&a, DropReason::AssocGone);
  } else if (auto* d = std::get_if<sctp::SenderDry>(&n)) {
    (void)d;
  }
}

void Relay::on_path_change(Association& a, const sctp::PeerAddrChange& p) {
  LOG_INFO("%s%s: path %s %s", a.role == Association::Role::Upstream ? "destination " : "", a.label.c_str(),
           p.address.to_string().c_str(), sctp::paddr_state_name(p.state));
  if (p.state != SCTP_ADDR_UNREACHABLE) return;
  sctp::AssociationInfo info;
  if (!a.sock().association_info(a.assoc, info) || !(info.primary == p.address)) return;
  for (auto& path : info.paths) {
    if (path.state != SCTP_ACTIVE || path.address == p.address) continue;
    std::error_code ec;
    if (a.sock().set_primary(a.assoc, path.address, ec))
      LOG_INFO("%s: primary path moved from %s to %s", a.label.c_str(), p.address.to_string().c_str(),
               path.address.to_string().c_str());
    else
      LOG_WARN("%s: cannot make %s the primary path: %s", a.label.c_str(), path.address.to_string().c_str(),
               ec.message().c_str());
    return;
  }
}

}  // namespace sctprelay::relay
