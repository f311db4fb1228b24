#include "control/status_json.h"

#include <utility>

namespace sctprelay::control {

using nlohmann::json;

namespace {

json strings(const std::vector<std::string>& list) {
  json out = json::array();
  for (const auto& s : list) out.push_back(s);
  return out;
}

template <class T>
json list_of(const std::vector<T>& items) {
  json out = json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}

json ok_answer() { return json{{"ok", true}}; }

}  // namespace

json to_json(const relay::DropCounts& drops) {
  json out = json::object();
  for (std::size_t i = 0; i < relay::kDropReasons; ++i)
    out[relay::drop_reason_name(static_cast<relay::DropReason>(i))] = drops[i];
  return out;
}

json to_json(const relay::Traffic& t) {
  return json{{"messages_in", t.messages_in}, {"bytes_in", t.bytes_in}, {"messages_out", t.messages_out},
              {"bytes_out", t.bytes_out},     {"dropped", t.dropped()}, {"drops", to_json(t.drops)}};
}

json to_json(const relay::Stats& s) {
  json out = json::object();
  for (const auto& [name, field] : relay::Stats::kFields) out[name] = s.*field;
  return out;
}

json to_json(const relay::PathStatus& p) {
  return json{{"address", p.address}, {"state", p.state}, {"primary", p.primary}, {"srtt_ms", p.srtt_ms},
              {"rto_ms", p.rto_ms},   {"cwnd", p.cwnd},   {"mtu", p.mtu}};
}

json to_json(const relay::KernelStatus& k) {
  if (k.state.empty()) return nullptr;
  json out{{"state", k.state},
           {"in_streams", k.in_streams},
           {"out_streams", k.out_streams},
           {"peer_rwnd", k.peer_rwnd},
           {"unacked", k.unacked},
           {"pending", k.pending},
           {"fragmentation_point", k.fragmentation_point},
           {"primary", k.primary},
           {"paths", list_of(k.paths)}};
  if (k.have_stats) {
    out["retransmitted_chunks"] = k.retransmitted_chunks;
    out["gap_acks_received"] = k.gap_acks_received;
    out["out_of_sequence_tsns"] = k.out_of_sequence_tsns;
    out["sacks_sent"] = k.sacks_sent;
    out["sacks_received"] = k.sacks_received;
    out["control_chunks_out"] = k.control_chunks_out;
    out["data_chunks_out"] = k.data_chunks_out;
    out["data_chunks_in"] = k.data_chunks_in;
    out["max_rto_ms"] = k.max_rto_ms;
  }
  return out;
}

json to_json(const relay::AssociationStatus& a) {
  return json{{"id", a.id},
              {"assoc_id", a.assoc_id},
              {"worker", a.worker},
              {"role", a.role},
              {"label", a.label},
              {"listener", a.listener},
              {"groups", strings(a.groups)},
              {"destination", a.destination},
              {"owner", a.owner},
              {"up", a.up},
              {"connecting", a.connecting},
              {"up_since", a.up_since},
              {"peers", strings(a.peers)},
              {"queued_messages", a.queued_messages},
              {"queued_bytes", a.queued_bytes},
              {"queue_high_water", a.queue_high_water},
              {"paused", a.paused},
              {"pause_reasons", strings(a.pause_reasons)},
              {"traffic", to_json(a.traffic)},
              {"kernel", to_json(a.kernel)}};
}

json to_json(const relay::ClosedAssociation& c) {
  return json{{"id", c.id},
              {"label", c.label},
              {"listener", c.listener},
              {"destination", c.destination},
              {"peers", strings(c.peers)},
              {"up_since", c.up_since},
              {"closed_at", c.closed_at},
              {"cause", c.cause},
              {"traffic", to_json(c.traffic)}};
}

json to_json(const relay::ListenerStatus& l) {
  return json{{"name", l.name},
              {"addresses", strings(l.addresses)},
              {"port", l.port},
              {"associations", l.associations},
              {"accepted_total", l.accepted_total},
              {"refused_not_allowed", l.refused_not_allowed},
              {"refused_max_associations", l.refused_max_associations},
              {"rate_limited", l.rate_limited},
              {"traffic", to_json(l.traffic)}};
}

json to_json(const relay::DestinationStatus& d) {
  return json{{"name", d.name},
              {"kind", d.kind},
              {"mode", d.mode},
              {"state", d.state},
              {"drained", d.drained},
              {"addresses", strings(d.addresses)},
              {"port", d.port},
              {"associations", d.associations},
              {"queued_messages", d.queued_messages},
              {"queued_bytes", d.queued_bytes},
              {"connect_attempts", d.connect_attempts},
              {"reconnects", d.reconnects},
              {"last_error", d.last_error},
              {"last_error_at", d.last_error_at},
              {"traffic", to_json(d.traffic)}};
}

json to_json(const relay::RouteTargetStatus& t) {
  return json{{"destination", t.destination},
              {"drained", t.drained},
              {"messages", t.messages},
              {"bytes", t.bytes},
              {"drops", to_json(t.drops)}};
}

json to_json(const relay::RouteStatus& r) {
  return json{{"name", r.name},
              {"from", r.from},
              {"action", r.action},
              {"matched_messages", r.matched_messages},
              {"matched_bytes", r.matched_bytes},
              {"dropped", r.dropped},
              {"targets", list_of(r.targets)}};
}

json to_json(const DaemonInfo& d) {
  return json{{"version", d.version},         {"pid", d.pid},
              {"config_file", d.config_file}, {"generation", d.generation},
              {"loaded_at", d.loaded_at},     {"started_at", d.started_at},
              {"uptime_s", d.uptime_s},       {"stopping", d.stopping},
              {"workers", d.workers}};
}

json status_answer(const relay::RelayStatus& status, const DaemonInfo& daemon) {
  json out = ok_answer();
  out["daemon"] = to_json(daemon);
  out["totals"] = to_json(status.totals);
  out["listeners"] = list_of(status.listeners);
  out["destinations"] = list_of(status.destinations);
  return out;
}

json assocs_answer(const relay::RelayStatus& status) {
  json out = ok_answer();
  out["associations"] = list_of(status.associations);
  out["closed"] = list_of(status.closed);
  return out;
}

json routes_answer(const relay::RelayStatus& status) {
  json out = ok_answer();
  out["routes"] = list_of(status.routes);
  return out;
}

json destinations_answer(const relay::RelayStatus& status) {
  json out = ok_answer();
  out["destinations"] = list_of(status.destinations);
  return out;
}

json destination_answer(const relay::DestinationStatus& destination) {
  json out = ok_answer();
  out["destination"] = to_json(destination);
  return out;
}

json disconnect_answer(uint64_t id, const std::string& label) {
  json out = ok_answer();
  out["association"] = json{{"id", id}, {"label", label}};
  return out;
}

json reload_answer(bool applied, const std::vector<std::string>& errors, uint64_t generation,
                   const std::string& summary) {
  return json{{"ok", applied},
              {"applied", applied},
              {"errors", strings(errors)},
              {"generation", generation},
              {"summary", summary}};
}

json error_answer(const std::string& text) { return json{{"ok", false}, {"error", text}}; }

}  // namespace sctprelay::control
