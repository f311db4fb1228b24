#include "ctl/render.h"

#include <algorithm>
#include <utility>

#include "ctl/format.h"
#include "ctl/table.h"

namespace sctprelay::ctl {

namespace {

using Align = Table::Align;
constexpr auto L = Align::Left;
constexpr auto R = Align::Right;

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string or_dash(const std::string& s) { return s.empty() ? "-" : s; }

std::string yes_no(const json& obj, const char* key) {
  auto b = get_bool(obj, key);
  return b ? (*b ? "yes" : "no") : "-";
}

std::string bytes_or_dash(const json& obj, const char* key) {
  auto n = get_u64(obj, key);
  return n ? human_bytes(*n) : "-";
}

std::string time_or_dash(const json& obj, const char* key) {
  auto t = get_i64(obj, key);
  return t ? local_time(*t) : "-";
}

std::string ms_or_dash(const json& obj, const char* key) {
  auto n = get_u64(obj, key);
  return n ? milliseconds(*n) : "-";
}

// The message count and bytes of a traffic object's direction ("in"/"out").
std::string traffic_count(const json& obj, const char* key) { return count_or_dash(member(obj, "traffic"), key); }

// A traffic object's drops: its "dropped" sum, else the sum of its reasons.
std::string traffic_dropped(const json& obj) {
  const json& t = member(obj, "traffic");
  if (auto n = get_u64(t, "dropped")) return std::to_string(*n);
  const json& d = member(t, "drops");
  return d.is_object() ? std::to_string(drops_total(d)) : "-";
}

// "127.0.0.1,127.0.0.2" and the port ("-" when 0: a group's "any port").
std::string addresses(const json& obj) { return or_dash(join(get_strings(obj, "addresses"), ",")); }
std::string port(const json& obj) {
  auto p = get_u64(obj, "port");
  return p && *p != 0 ? std::to_string(*p) : "-";
}

// "key value" lines with the values aligned.
class Block {
 public:
  void add(std::string key, std::string value) { table_.add({std::move(key), std::move(value)}); }
  std::string render() const { return table_.render(); }

 private:
  Table table_{{{"", L}, {"", L}}};
};

}  // namespace

uint64_t drops_total(const json& drops) {
  uint64_t total = 0;
  if (!drops.is_object()) return 0;
  for (auto it = drops.begin(); it != drops.end(); ++it)
    if (auto n = get_u64(drops, it.key().c_str())) total += *n;
  return total;
}

std::string drops_text(const json& drops, std::size_t most) {
  std::vector<std::pair<std::string, uint64_t>> nonzero;
  if (drops.is_object()) {
    for (auto it = drops.begin(); it != drops.end(); ++it) {
      auto n = get_u64(drops, it.key().c_str());
      if (n && *n > 0) nonzero.emplace_back(it.key(), *n);
    }
  }
  std::stable_sort(nonzero.begin(), nonzero.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (std::size_t i = 0; i < nonzero.size() && i < most; ++i) {
    if (!out.empty()) out += ", ";
    out += nonzero[i].first + " " + std::to_string(nonzero[i].second);
  }
  if (nonzero.size() > most) out += ", +" + std::to_string(nonzero.size() - most) + " more";
  return out;
}

// --- status

namespace {

std::string daemon_block(const json& d) {
  std::string out = "sctprelayd " + text_or_dash(d, "version") + ", pid " + count_or_dash(d, "pid") + "\n";
  Block b;
  b.add("config file", text_or_dash(d, "config_file"));
  std::string gen = count_or_dash(d, "generation");
  if (auto at = get_i64(d, "loaded_at")) gen += ", loaded at " + local_time(*at);
  b.add("generation", gen);
  std::string started = time_or_dash(d, "started_at");
  if (auto up = get_u64(d, "uptime_s")) started += ", up " + human_duration(*up);
  b.add("started at", started);
  if (auto w = get_u64(d, "workers"); w && *w > 1) b.add("workers", std::to_string(*w) + " event loops");
  auto stopping = get_bool(d, "stopping");
  b.add("state", !stopping ? "-" : *stopping ? "stopping: draining queues before exit" : "running");
  return out + b.render();
}

std::string totals_block(const json& t) {
  auto n = [&](const char* k) { return get_u64(t, k).value_or(0); };
  Block b;
  b.add("received", count_or_dash(t, "received") + " messages");
  std::string fwd = count_or_dash(t, "forwarded") + " copies";
  if (auto q = get_u64(t, "queued")) fwd += " (" + std::to_string(*q) + " waited in a queue)";
  b.add("forwarded", fwd);
  std::string queued = bytes_or_dash(t, "queued_bytes");
  if (auto peak = get_u64(t, "queued_bytes_peak")) queued += " (peak " + human_bytes(*peak) + ")";
  b.add("queued now", queued);

  // Every dropped_* counter, whatever reasons this daemon has.
  json reasons = json::object();
  const std::string prefix = "dropped_";
  for (auto it = t.begin(); it != t.end(); ++it) {
    if (it.key().rfind(prefix, 0) != 0) continue;
    if (auto v = get_u64(t, it.key().c_str())) reasons[it.key().substr(prefix.size())] = *v;
  }
  std::string dropped = std::to_string(drops_total(reasons));
  std::string top = drops_text(reasons);
  if (!top.empty()) dropped += ": " + top;
  b.add("dropped", dropped);

  b.add("associations", std::to_string(n("assoc_up")) + " came up, " +
                            std::to_string(n("assoc_down_shutdown") + n("assoc_down_abort")) + " ended (" +
                            std::to_string(n("assoc_down_shutdown")) + " shutdown, " +
                            std::to_string(n("assoc_down_abort")) + " abort), " +
                            std::to_string(n("refused_not_allowed") + n("refused_max_associations")) + " refused");
  return b.render();
}

std::string listeners_table(const json& listeners) {
  if (listeners.empty()) return "no listeners\n";
  Table t({{"LISTENER", L},
           {"ADDRESSES", L},
           {"PORT", R},
           {"ASSOCS", R},
           {"ACCEPTED", R},
           {"REFUSED", R},
           {"RATE LIMITED", R},
           {"MSGS IN", R},
           {"MSGS OUT", R},
           {"DROPPED", R}});
  for (const auto& l : listeners) {
    std::string refused = "-";
    auto a = get_u64(l, "refused_not_allowed"), b = get_u64(l, "refused_max_associations");
    if (a || b) refused = std::to_string(a.value_or(0) + b.value_or(0));
    t.add({text_or_dash(l, "name"), addresses(l), port(l), count_or_dash(l, "associations"),
           count_or_dash(l, "accepted_total"), refused, count_or_dash(l, "rate_limited"),
           traffic_count(l, "messages_in"), traffic_count(l, "messages_out"), traffic_dropped(l)});
  }
  return t.render();
}

std::string state_with_drained(const json& d) {
  std::string s = text_or_dash(d, "state");
  if (get_bool(d, "drained").value_or(false)) s += ", drained";
  return s;
}

std::string status_destinations_table(const json& destinations) {
  if (destinations.empty()) return "no destinations\n";
  Table t({{"DESTINATION", L},
           {"KIND", L},
           {"STATE", L},
           {"ASSOCS", R},
           {"QUEUED", R},
           {"QUEUED BYTES", R},
           {"MSGS OUT", R},
           {"MSGS IN", R},
           {"DROPPED", R}});
  for (const auto& d : destinations) {
    t.add({text_or_dash(d, "name"), text_or_dash(d, "kind"), state_with_drained(d), count_or_dash(d, "associations"),
           count_or_dash(d, "queued_messages"), bytes_or_dash(d, "queued_bytes"), traffic_count(d, "messages_out"),
           traffic_count(d, "messages_in"), traffic_dropped(d)});
  }
  return t.render();
}

}  // namespace

std::string render_status(const json& answer) {
  const json& daemon = require_object(answer, "daemon");
  const json& totals = require_object(answer, "totals");
  const json& listeners = require_list(answer, "listeners");
  const json& destinations = require_list(answer, "destinations");
  return daemon_block(daemon) + "\n" + totals_block(totals) + "\n" + listeners_table(listeners) + "\n" +
         status_destinations_table(destinations);
}

std::string render_daemon_version(const json& answer) {
  const json& d = require_object(answer, "daemon");
  std::string out = "sctprelayd " + text_or_dash(d, "version") + " (pid " + count_or_dash(d, "pid");
  if (auto up = get_u64(d, "uptime_s")) out += ", up " + human_duration(*up);
  return out + ")\n";
}

// --- assocs

namespace {

// The primary path of a kernel object: the one marked primary, else the one named `primary`.
const json* primary_path(const json& kernel) {
  const json& paths = member(kernel, "paths");
  if (!paths.is_array()) return nullptr;
  for (const auto& p : paths)
    if (get_bool(p, "primary").value_or(false)) return &p;
  auto name = get_string(kernel, "primary");
  if (name)
    for (const auto& p : paths)
      if (get_string(p, "address") == name) return &p;
  return nullptr;
}

std::string assoc_where(const json& a) {
  auto role = get_string(a, "role").value_or("");
  std::string listener = get_string(a, "listener").value_or("");
  std::string destination = get_string(a, "destination").value_or("");
  if (role == "upstream" || (listener.empty() && !destination.empty())) {
    std::string out = "-> " + or_dash(destination);
    if (auto owner = get_u64(a, "owner"); owner && *owner != 0) out += " (for " + std::to_string(*owner) + ")";
    return out;
  }
  std::string out = or_dash(listener);
  auto groups = get_strings(a, "groups");
  if (!groups.empty()) out += " [" + join(groups, ",") + "]";
  return out;
}

std::string assoc_state(const json& a) {
  const json& k = member(a, "kernel");
  if (k.is_object()) return text_or_dash(k, "state");
  if (get_bool(a, "up").value_or(false)) return "up";
  if (get_bool(a, "connecting").value_or(false)) return "connecting";
  return "gone";
}

std::string assoc_paused(const json& a) {
  if (!get_bool(a, "paused").value_or(false)) return "-";
  auto reasons = get_strings(a, "pause_reasons");
  return reasons.empty() ? "yes" : join(reasons, ",");
}

std::string closed_where(const json& c) {
  std::string listener = get_string(c, "listener").value_or("");
  std::string destination = get_string(c, "destination").value_or("");
  if (!listener.empty()) return listener;
  if (!destination.empty()) return "-> " + destination;
  return "-";
}

std::string closed_lasted(const json& c) {
  auto up = get_i64(c, "up_since"), closed = get_i64(c, "closed_at");
  if (!up || !closed || *up <= 0 || *closed < *up) return "-";
  return human_duration(static_cast<uint64_t>(*closed - *up));
}

}  // namespace

std::string render_assocs(const json& answer) {
  const json& assocs = require_list(answer, "associations");
  std::string out;
  if (assocs.empty()) {
    out += "no associations\n";
  } else {
    Table main({{"ID", R},
                {"KERNEL", R},
                {"ROLE", L},
                {"WHERE", L},
                {"STATE", L},
                {"PATHS", R},
                {"PRIMARY", L},
                {"SRTT", R},
                {"RTO", R},
                {"CWND", R},
                {"MSGS IN", R},
                {"MSGS OUT", R},
                {"QUEUED", R},
                {"DROPS", R},
                {"PAUSED", L}});
    // Every path of every association in one table, so that they line up with each other.
    Table paths({{"", L}, {"", L}, {"", L}, {"", L}, {"", L}, {"", L}, {"", L}, {"", L}}, "    ");
    std::vector<std::pair<std::size_t, std::size_t>> path_rows;  // per association: [first, last)
    for (const auto& a : assocs) {
      const json& k = member(a, "kernel");
      const json* primary = primary_path(k);
      const json& kpaths = member(k, "paths");
      std::string npaths =
          kpaths.is_array() ? std::to_string(kpaths.size()) : std::to_string(get_strings(a, "peers").size());
      main.add({count_or_dash(a, "id"), count_or_dash(a, "assoc_id"), text_or_dash(a, "role"), assoc_where(a),
                assoc_state(a), npaths, text_or_dash(k, "primary"), primary ? ms_or_dash(*primary, "srtt_ms") : "-",
                primary ? ms_or_dash(*primary, "rto_ms") : "-", primary ? count_or_dash(*primary, "cwnd") : "-",
                traffic_count(a, "messages_in"), traffic_count(a, "messages_out"), count_or_dash(a, "queued_messages"),
                traffic_dropped(a), assoc_paused(a)});
      const std::size_t first = paths.rows();
      if (kpaths.is_array()) {
        for (const auto& p : kpaths) {
          paths.add({"path", text_or_dash(p, "address"), text_or_dash(p, "state"), "srtt " + ms_or_dash(p, "srtt_ms"),
                     "rto " + ms_or_dash(p, "rto_ms"), "cwnd " + count_or_dash(p, "cwnd"),
                     "mtu " + count_or_dash(p, "mtu"), get_bool(p, "primary").value_or(false) ? "primary" : ""});
        }
      } else {
        for (const auto& peer : get_strings(a, "peers")) paths.add({"peer", peer});
      }
      path_rows.emplace_back(first, paths.rows());
    }
    out += main.header_line();
    for (std::size_t i = 0; i < main.rows(); ++i) {
      out += main.row_line(i);
      for (std::size_t p = path_rows[i].first; p < path_rows[i].second; ++p) out += paths.row_line(p);
    }
  }

  const json& closed = member(answer, "closed");
  if (closed.is_array() && !closed.empty()) {
    out += "\nrecently closed (" + std::to_string(closed.size()) + "):\n";
    Table t({{"ID", R},
             {"WHERE", L},
             {"PEERS", L},
             {"UP SINCE", L},
             {"CLOSED AT", L},
             {"LASTED", L},
             {"MSGS IN", R},
             {"MSGS OUT", R},
             {"DROPS", R},
             {"CAUSE", L}});
    for (const auto& c : closed) {
      t.add({count_or_dash(c, "id"), closed_where(c), or_dash(join(get_strings(c, "peers"), ",")),
             time_or_dash(c, "up_since"), time_or_dash(c, "closed_at"), closed_lasted(c),
             traffic_count(c, "messages_in"), traffic_count(c, "messages_out"), traffic_dropped(c),
             text_or_dash(c, "cause")});
    }
    out += t.render();
  }
  return out;
}

// --- routes

std::string render_routes(const json& answer) {
  const json& routes = require_list(answer, "routes");
  if (routes.empty()) return "no routes\n";
  // The default last, whatever order the answer has.
  std::vector<const json*> ordered;
  for (const auto& r : routes) ordered.push_back(&r);
  std::stable_partition(ordered.begin(), ordered.end(), [](const json* r) {
    return !(get_string(*r, "name") == std::string("default") && get_string(*r, "from").value_or("").empty());
  });

  Table main({{"ROUTE", L}, {"FROM", L}, {"ACTION", L}, {"MATCHED", R}, {"BYTES", R}, {"DROPPED", R}});
  Table targets({{"", L}, {"", R}, {"", L}, {"", R}, {"", L}}, "    ");
  std::vector<std::pair<std::size_t, std::size_t>> target_rows;
  for (const json* r : ordered) {
    main.add({text_or_dash(*r, "name"), text_or_dash(*r, "from"), text_or_dash(*r, "action"),
              count_or_dash(*r, "matched_messages"), bytes_or_dash(*r, "matched_bytes"), count_or_dash(*r, "dropped")});
    const std::size_t first = targets.rows();
    const json& ts = member(*r, "targets");
    if (ts.is_array()) {
      for (const auto& t : ts) {
        const json& drops = member(t, "drops");
        std::string dropped = "dropped " + std::to_string(drops_total(drops));
        std::string why = drops_text(drops);
        if (!why.empty()) dropped += " (" + why + ")";
        std::string to = "-> " + text_or_dash(t, "destination");
        if (get_bool(t, "drained").value_or(false)) to += " (drained)";
        targets.add({to, count_or_dash(t, "messages"), "messages", bytes_or_dash(t, "bytes"), dropped});
      }
    }
    target_rows.emplace_back(first, targets.rows());
  }
  std::string out = main.header_line();
  for (std::size_t i = 0; i < main.rows(); ++i) {
    out += main.row_line(i);
    for (std::size_t t = target_rows[i].first; t < target_rows[i].second; ++t) out += targets.row_line(t);
  }
  return out;
}

// --- destinations

std::string render_destinations(const json& answer) {
  const json& destinations = require_list(answer, "destinations");
  if (destinations.empty()) return "no destinations\n";
  Table t({{"DESTINATION", L},
           {"KIND", L},
           {"MODE", L},
           {"STATE", L},
           {"DRAINED", L},
           {"ADDRESSES", L},
           {"PORT", R},
           {"ASSOCS", R},
           {"QUEUED", R},
           {"QUEUED BYTES", R},
           {"ATTEMPTS", R},
           {"RECONNECTS", R},
           {"LAST ERROR", L}});
  for (const auto& d : destinations) {
    std::string error = text_or_dash(d, "last_error");
    if (error != "-") {
      if (auto at = get_i64(d, "last_error_at"); at && *at > 0) error += " (" + local_time(*at) + ")";
    }
    t.add({text_or_dash(d, "name"), text_or_dash(d, "kind"), text_or_dash(d, "mode"), text_or_dash(d, "state"),
           yes_no(d, "drained"), addresses(d), port(d), count_or_dash(d, "associations"),
           count_or_dash(d, "queued_messages"), bytes_or_dash(d, "queued_bytes"), count_or_dash(d, "connect_attempts"),
           count_or_dash(d, "reconnects"), error});
  }
  return t.render();
}

// --- reload, drain, disconnect

std::string render_reload(const json& answer) {
  const bool ok = get_bool(answer, "ok").value_or(false);
  const bool applied = get_bool(answer, "applied").value_or(ok);
  if (ok && applied) {
    std::string out = "reload applied: generation " + count_or_dash(answer, "generation");
    if (auto summary = get_string(answer, "summary"); summary && !summary->empty()) out += ": " + *summary;
    return out + "\n";
  }
  const std::string refused = "reload refused: the running configuration stays";
  std::string out;
  auto errors = get_strings(answer, "errors");
  if (errors.empty()) {
    // No file errors (the daemon is stopping, say): its reason, unless it is the line below.
    if (auto e = get_string(answer, "error"); e && *e != refused) errors.push_back(*e);
  }
  for (const auto& e : errors) out += e + "\n";
  return out + refused + "\n";
}

std::string render_drain(const json& answer, bool drained) {
  const json& d = require_object(answer, "destination");
  const std::string name = text_or_dash(d, "name");
  if (!drained) return "destination " + name + " undrained: routes use it again\n";
  std::string out = "destination " + name + " drained: routes skip it";
  if (auto q = get_u64(d, "queued_messages")) {
    out += "; " + std::to_string(*q) + (*q == 1 ? " message" : " messages");
    if (auto b = get_u64(d, "queued_bytes")) out += " (" + human_bytes(*b) + ")";
    out += " queued";
  }
  return out + "\n";
}

std::string render_disconnect(const json& answer, bool abort) {
  const json& a = require_object(answer, "association");
  std::string out = "association " + count_or_dash(a, "id");
  if (auto label = get_string(a, "label"); label && !label->empty()) out += " (" + *label + ")";
  // The daemon says which it did; an older one does not, and then it is what was asked.
  const std::string action = get_string(answer, "action").value_or(abort ? "abort" : "shutdown");
  if (action == "abort") return out + ": ABORT sent\n";
  if (action == "shutdown") return out + ": SHUTDOWN started\n";
  return out + ": " + action + "\n";
}

}  // namespace sctprelay::ctl
