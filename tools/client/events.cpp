// Output records for SCTP notifications.
#include "events.h"

namespace sctprelay::client {

void emit_notification(const sctp::Socket& sock, const sctp::Notification& n, bool json) {
  if (const auto* ac = std::get_if<sctp::AssocChange>(&n)) {
    if (ac->state == SCTP_COMM_UP || ac->state == SCTP_RESTART) {
      Record r(ac->state == SCTP_COMM_UP ? "up" : "restart");
      r.add("assoc", int64_t(ac->assoc)).add("peers", to_strings(sock.peer_addresses(ac->assoc)));
      r.add("in_streams", unsigned(ac->inbound_streams)).add("out_streams", unsigned(ac->outbound_streams));
      emit(r, json);
    } else {
      Record r("down");
      r.add("assoc", int64_t(ac->assoc)).add("state", sctp::assoc_state_name(ac->state));
      r.add("error", unsigned(ac->error));
      emit(r, json);
    }
  } else if (const auto* sd = std::get_if<sctp::ShutdownEvent>(&n)) {
    emit(Record("shutdown").add("assoc", int64_t(sd->assoc)), json);
  } else if (const auto* pa = std::get_if<sctp::PeerAddrChange>(&n)) {
    Record r("paddr");
    r.add("assoc", int64_t(pa->assoc)).add("address", pa->address.to_string());
    r.add("state", sctp::paddr_state_name(pa->state)).add("error", unsigned(pa->error));
    emit(r, json);
  } else if (const auto* sf = std::get_if<sctp::SendFailed>(&n)) {
    Record r("send_failed");
    r.add("assoc", int64_t(sf->assoc)).add("stream", unsigned(sf->info.stream));
    r.add("ppid", uint64_t(sf->info.ppid)).add("size", uint64_t(sf->data.size()));
    r.add("sent", sf->flags & SCTP_DATA_SENT ? "sent" : "unsent").add("error", uint64_t(sf->error));
    emit(r, json);
  }
}

}  // namespace sctprelay::client
