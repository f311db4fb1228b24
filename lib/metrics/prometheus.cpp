#include "metrics/prometheus.h"

#include <charconv>
#include <initializer_list>
#include <utility>

namespace sctprelay::metrics {
namespace {

using relay::DropReason;
using relay::kDropReasons;
using relay::Stats;

enum class Type { Counter, Gauge };

using Label = std::pair<std::string_view, std::string_view>;

// Writes families one after another. A family's HELP and TYPE lines go out with its first sample,
// so a family without samples (no listeners, say) leaves no trace.
class Exposition {
 public:
  void family(std::string_view name, Type type, std::string_view help) {
    name_ = name;
    type_ = type;
    help_ = help;
    started_ = false;
  }

  void sample(std::initializer_list<Label> labels, uint64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    line(labels, std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }
  void sample_signed(std::initializer_list<Label> labels, int64_t value) {
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
    line(labels, std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }

  std::string take() { return std::move(text_); }

 private:
  void line(std::initializer_list<Label> labels, std::string_view value) {
    if (!started_) {
      started_ = true;
      text_ += "# HELP ";
      text_ += name_;
      text_ += ' ';
      append_help(help_);
      text_ += "\n# TYPE ";
      text_ += name_;
      text_ += type_ == Type::Counter ? " counter\n" : " gauge\n";
    }
    text_ += name_;
    if (labels.size() > 0) {
      text_ += '{';
      bool first = true;
      for (const auto& [key, val] : labels) {
        if (!first) text_ += ',';
        first = false;
        text_ += key;
        text_ += "=\"";
        text_ += escape_label_value(val);
        text_ += '"';
      }
      text_ += '}';
    }
    text_ += ' ';
    text_ += value;
    text_ += '\n';
  }

  // HELP text escapes backslash and newline (not the double quote).
  void append_help(std::string_view help) {
    for (char c : help) {
      if (c == '\\') text_ += "\\\\";
      else if (c == '\n') text_ += "\\n";
      else text_ += c;
    }
  }

  std::string text_;
  std::string_view name_;
  std::string_view help_;
  Type type_ = Type::Gauge;
  bool started_ = false;
};

void daemon_families(Exposition& out, const DaemonInfo& d) {
  out.family("sctprelay_build_info", Type::Gauge, "Always 1; the version label names the running sctprelayd.");
  out.sample({{"version", d.version}}, 1);
  out.family("sctprelay_start_time_seconds", Type::Gauge, "When the daemon started, in unix seconds.");
  out.sample_signed({}, d.start_time);
  out.family("sctprelay_workers", Type::Gauge,
             "Event loops (threads) relaying traffic (workers in the configuration); every other metric sums them.");
  out.sample({}, d.workers);
  out.family("sctprelay_config_generation", Type::Gauge,
             "The running configuration's generation: 1 at start, one more per applied reload.");
  out.sample({}, d.config_generation);
  out.family("sctprelay_config_last_reload_success", Type::Gauge,
             "1 unless the most recent reload was rejected (the previous configuration then stays in force).");
  out.sample({}, d.last_reload_success ? 1 : 0);
  out.family("sctprelay_config_load_time_seconds", Type::Gauge,
             "When the running configuration was applied, in unix seconds.");
  out.sample_signed({}, d.config_load_time);
}

// One counter family from a Stats field.
void total(Exposition& out, std::string_view name, std::string_view help, uint64_t value) {
  out.family(name, Type::Counter, help);
  out.sample({}, value);
}

void total_families(Exposition& out, const Stats& t) {
  total(out, "sctprelay_received_messages_total", "Messages read from any association.", t.received);
  total(out, "sctprelay_forwarded_messages_total", "Message copies handed to the kernel for a target.", t.forwarded);
  total(out, "sctprelay_queued_messages_total", "Message copies that had to wait in a queue.", t.queued);

  out.family("sctprelay_dropped_messages_total", Type::Counter, "Messages not forwarded, by reason.");
  for (std::size_t i = 0; i < kDropReasons; ++i) {
    const auto reason = static_cast<DropReason>(i);
    out.sample({{"reason", relay::drop_reason_name(reason)}}, t.dropped(reason));
  }

  total(out, "sctprelay_oversize_aborted_associations_total",
        "Associations ABORTed for a message above limits.max_message_size (oversize: abort).", t.oversize_aborted);
  total(out, "sctprelay_stream_mapped_messages_total",
        "Messages on a stream beyond the target's streams, mapped modulo its stream count.", t.stream_mapped);
  total(out, "sctprelay_requeued_messages_total",
        "Messages the kernel handed back (SEND_FAILED), rebuilt whole and queued again.", t.requeued);
  total(out, "sctprelay_redelivered_maybe_duplicate_messages_total",
        "Requeued messages whose every piece had been sent: the peer may receive them twice.",
        t.redelivered_maybe_duplicate);
  total(out, "sctprelay_replies_no_owner_total",
        "Replies (return: origin) with no living association to go back to.", t.replies_no_owner);
  total(out, "sctprelay_send_errors_total", "Failed sends of any kind.", t.send_errors);
  total(out, "sctprelay_send_retries_total", "Sends put off because the host was short of buffers (ENOBUFS).",
        t.send_retries);

  total(out, "sctprelay_associations_up_total", "Associations that came up (COMM_UP).", t.assoc_up);
  out.family("sctprelay_associations_down_total", Type::Counter,
             "Associations that ended, by cause: shutdown (graceful) or abort (ABORT received or path failure).");
  out.sample({{"cause", "shutdown"}}, t.assoc_down_shutdown);
  out.sample({{"cause", "abort"}}, t.assoc_down_abort);
  total(out, "sctprelay_association_restarts_total", "Associations restarted by their peer (SCTP_RESTART).",
        t.assoc_restart);
  out.family("sctprelay_refused_associations_total", Type::Counter,
             "Associations ABORTed as they came up, by cause: a peer address outside the listener's allow list, "
             "or the listener's max_associations reached.");
  out.sample({{"cause", "not_allowed"}}, t.refused_not_allowed);
  out.sample({{"cause", "max_associations"}}, t.refused_max_associations);

  total(out, "sctprelay_backpressure_pauses_total",
        "Times a source association was held back because a queue it feeds was full.", t.backpressure_pauses);
  total(out, "sctprelay_rate_limited_pauses_total",
        "Times an association was held back for its listener's rate limit.", t.rate_limited);

  out.family("sctprelay_queued_bytes", Type::Gauge, "Bytes of every message waiting in every queue now.");
  out.sample({}, t.queued_bytes);
  out.family("sctprelay_queued_bytes_peak", Type::Gauge, "The most bytes queued at any time since start.");
  out.sample({}, t.queued_bytes_peak);
}

// A family with one sample per item of `items`, labelled `label`="<item name>".
template <class Item, class Value>
void per_item(Exposition& out, const std::vector<Item>& items, std::string_view label, std::string_view name,
              Type type, std::string_view help, Value value) {
  out.family(name, type, help);
  for (const Item& item : items) out.sample({{label, item.name}}, value(item));
}

// Messages and bytes in and out, and drops by reason, of every listener or destination.
// `prefix` is e.g. "sctprelay_listener", `what` the phrase in help texts.
template <class Item>
void traffic_families(Exposition& out, const std::vector<Item>& items, std::string_view label,
                      const std::string& prefix, std::string_view what) {
  const std::string names[] = {prefix + "_received_messages_total", prefix + "_received_bytes_total",
                               prefix + "_sent_messages_total", prefix + "_sent_bytes_total",
                               prefix + "_dropped_messages_total"};
  const std::string helps[] = {
      std::string("Messages read from ") + std::string(what) + ".",
      std::string("Bytes of messages read from ") + std::string(what) + ".",
      std::string("Messages handed to the kernel for ") + std::string(what) + ".",
      std::string("Bytes of messages handed to the kernel for ") + std::string(what) + ".",
      std::string("Messages dropped on ") + std::string(what) + ", by reason.",
  };
  per_item(out, items, label, names[0], Type::Counter, helps[0], [](const Item& i) { return i.traffic.messages_in; });
  per_item(out, items, label, names[1], Type::Counter, helps[1], [](const Item& i) { return i.traffic.bytes_in; });
  per_item(out, items, label, names[2], Type::Counter, helps[2], [](const Item& i) { return i.traffic.messages_out; });
  per_item(out, items, label, names[3], Type::Counter, helps[3], [](const Item& i) { return i.traffic.bytes_out; });
  out.family(names[4], Type::Counter, helps[4]);
  for (const Item& item : items)
    for (std::size_t r = 0; r < kDropReasons; ++r)
      out.sample({{label, item.name}, {"reason", relay::drop_reason_name(static_cast<DropReason>(r))}},
                 item.traffic.drops[r]);
}

void listener_families(Exposition& out, const std::vector<relay::ListenerStatus>& ls) {
  using L = relay::ListenerStatus;
  per_item(out, ls, "listener", "sctprelay_listener_associations", Type::Gauge,
           "Associations of the listener that are up now.", [](const L& l) { return l.associations; });
  per_item(out, ls, "listener", "sctprelay_listener_accepted_associations_total", Type::Counter,
           "Associations the listener accepted and admitted.", [](const L& l) { return l.accepted_total; });
  out.family("sctprelay_listener_refused_associations_total", Type::Counter,
             "Associations the listener ABORTed as they came up, by cause.");
  for (const L& l : ls) {
    out.sample({{"listener", l.name}, {"cause", "not_allowed"}}, l.refused_not_allowed);
    out.sample({{"listener", l.name}, {"cause", "max_associations"}}, l.refused_max_associations);
  }
  per_item(out, ls, "listener", "sctprelay_listener_rate_limited_pauses_total", Type::Counter,
           "Times an association of the listener was held back for its rate limit.",
           [](const L& l) { return l.rate_limited; });
  traffic_families(out, ls, "listener", "sctprelay_listener", "the listener's associations");
}

void destination_families(Exposition& out, const std::vector<relay::DestinationStatus>& ds) {
  using D = relay::DestinationStatus;
  out.family("sctprelay_destination_info", Type::Gauge,
             "Always 1; labels: the destination's kind (peer or group) and mode.");
  for (const D& d : ds) out.sample({{"destination", d.name}, {"kind", d.kind}, {"mode", d.mode}}, 1);
  per_item(out, ds, "destination", "sctprelay_destination_up", Type::Gauge,
           "1 when the destination can take messages now (a peer connected, a group with members).",
           [](const D& d) { return d.state == "up" ? 1 : 0; });
  per_item(out, ds, "destination", "sctprelay_destination_drained", Type::Gauge,
           "1 when the destination is drained (routes skip it).", [](const D& d) { return d.drained ? 1 : 0; });
  per_item(out, ds, "destination", "sctprelay_destination_associations", Type::Gauge,
           "Associations of the destination that are up now.", [](const D& d) { return d.associations; });
  per_item(out, ds, "destination", "sctprelay_destination_queued_messages", Type::Gauge,
           "Messages waiting in the destination's queues now.", [](const D& d) { return d.queued_messages; });
  per_item(out, ds, "destination", "sctprelay_destination_queued_bytes", Type::Gauge,
           "Bytes of the messages waiting in the destination's queues now.", [](const D& d) { return d.queued_bytes; });
  per_item(out, ds, "destination", "sctprelay_destination_connect_attempts_total", Type::Counter,
           "Connections to the peer tried since start.", [](const D& d) { return d.connect_attempts; });
  per_item(out, ds, "destination", "sctprelay_destination_reconnects_total", Type::Counter,
           "Connections to the peer tried after an association ended or failed.",
           [](const D& d) { return d.reconnects; });
  out.family("sctprelay_destination_last_error_time_seconds", Type::Gauge,
             "When the last connect or association of the peer failed, in unix seconds (0: never).");
  for (const D& d : ds) out.sample_signed({{"destination", d.name}}, d.last_error_at);
  traffic_families(out, ds, "destination", "sctprelay_destination", "the destination's associations");
}

void route_families(Exposition& out, const std::vector<relay::RouteStatus>& rs) {
  using R = relay::RouteStatus;
  out.family("sctprelay_route_info", Type::Gauge,
             "Always 1; labels: the route's source and action (the default route is named default).");
  for (const R& r : rs) out.sample({{"route", r.name}, {"from", r.from}, {"action", r.action}}, 1);
  per_item(out, rs, "route", "sctprelay_route_matched_messages_total", Type::Counter,
           "Messages the route took.", [](const R& r) { return r.matched_messages; });
  per_item(out, rs, "route", "sctprelay_route_matched_bytes_total", Type::Counter,
           "Bytes of the messages the route took.", [](const R& r) { return r.matched_bytes; });
  per_item(out, rs, "route", "sctprelay_route_dropped_messages_total", Type::Counter,
           "Messages the route dropped as a whole (the default route with action: drop).",
           [](const R& r) { return r.dropped; });

  out.family("sctprelay_route_target_messages_total", Type::Counter,
             "Message copies the route handed on to the target (sent or queued).");
  for (const R& r : rs)
    for (const auto& t : r.targets) out.sample({{"route", r.name}, {"target", t.destination}}, t.messages);
  out.family("sctprelay_route_target_bytes_total", Type::Counter,
             "Bytes of the message copies the route handed on to the target.");
  for (const R& r : rs)
    for (const auto& t : r.targets) out.sample({{"route", r.name}, {"target", t.destination}}, t.bytes);
  // Only reasons that happened: routes may be counted in thousands, each with several targets.
  out.family("sctprelay_route_target_dropped_messages_total", Type::Counter,
             "Messages dropped while the route handed them to the target, by reason (reasons that never happened "
             "are left out).");
  for (const R& r : rs)
    for (const auto& t : r.targets)
      for (std::size_t i = 0; i < kDropReasons; ++i)
        if (t.drops[i] != 0)
          out.sample({{"route", r.name},
                      {"target", t.destination},
                      {"reason", relay::drop_reason_name(static_cast<DropReason>(i))}},
                     t.drops[i]);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_prometheus(const relay::RelayStatus& s, const DaemonInfo& d) {
  Exposition out;
  daemon_families(out, d);
  total_families(out, s.totals);
  listener_families(out, s.listeners);
  destination_families(out, s.destinations);
  route_families(out, s.routes);
  return out.take();
}

}  // namespace sctprelay::metrics
