// The top level of the file: log level, limits, the lists of sections, and the default action.
#include <cctype>

#include "config/document.h"
#include "config/scalars.h"
#include "util/log.h"

namespace sctprelay::config {
namespace {

constexpr std::size_t kMiB = 1024u * 1024u;
// The largest limits.max_message_size: a message is reassembled whole and sent in one call, so
// the send buffers must be able to hold it.
constexpr std::size_t kMaxMessageSizeLimit = 256u * kMiB;

// `workers: N` (1..64) or `workers: auto`. Destinations of kind group are served by one loop
// only: their members are associations accepted by whichever loop the kernel gave them to.
void read_workers(Diagnostics& diag, const Field& f, Config& cfg) {
  Workers& w = cfg.workers;
  w.where = f.where;
  if (f.value.IsScalar() && f.value.Scalar() == "auto") {
    w.automatic = true;
  } else if (f.value.IsScalar() && !f.value.Scalar().empty() &&
             std::isdigit(static_cast<unsigned char>(f.value.Scalar()[0]))) {
    if (auto n = read_uint(diag, f, 1, Workers::kMax)) w.count = static_cast<unsigned>(*n);
    return;
  } else {
    diag.error(f.where, f.path, "expected a number of workers from 1 to " + std::to_string(Workers::kMax) +
                                    " or \"auto\" (one per CPU)");
    return;
  }
}

void read_limits(Diagnostics& diag, const Field& f, Limits& limits) {
  MapReader map(diag, f, "limits");
  auto message = map.take("max_message_size");
  auto reassembly = map.take("max_reassembly_bytes");
  bool message_ok = true, reassembly_ok = true;
  if (message) {
    limits.max_message_size_where = message->where;
    message_ok = false;
    if (auto n = read_size(diag, *message)) {
      if (*n == 0) {
        diag.error(message->where, message->path, "must be at least 1 byte");
      } else if (*n > kMaxMessageSizeLimit) {
        diag.error(message->where, message->path,
                   "must be at most " + scalars::format_size(kMaxMessageSizeLimit) + ", got " + scalars::format_size(*n));
      } else {
        limits.max_message_size = *n;
        message_ok = true;
      }
    }
  }
  if (reassembly) {
    reassembly_ok = false;
    if (auto n = read_size(diag, *reassembly)) {
      limits.max_reassembly_bytes = *n;
      reassembly_ok = true;
    }
  }
  // One message being reassembled may take max_message_size, so the total must allow at least
  // that. Reported at the key the file gave (max_reassembly_bytes when it gave both).
  if ((message || reassembly) && message_ok && reassembly_ok &&
      limits.max_reassembly_bytes < limits.max_message_size) {
    if (reassembly) {
      diag.error(reassembly->where, reassembly->path,
                 scalars::format_size(limits.max_reassembly_bytes) + " is below limits.max_message_size (" +
                     scalars::format_size(limits.max_message_size) + (message ? "" : ", the default") +
                     "): it must hold at least one whole message being reassembled");
    } else {
      diag.error(message->where, message->path,
                 scalars::format_size(limits.max_message_size) + " is above limits.max_reassembly_bytes (" +
                     scalars::format_size(limits.max_reassembly_bytes) +
                     ", the default): raise max_reassembly_bytes to at least as much");
    }
  }
  if (auto v = map.take("max_queued_bytes")) {
    if (auto n = read_size(diag, *v)) {
      if (message_ok && *n < limits.max_message_size)
        diag.error(v->where, v->path,
                   scalars::format_size(*n) + " is below limits.max_message_size (" +
                       scalars::format_size(limits.max_message_size) + (message ? "" : ", the default") +
                       "): the queues must be able to hold at least one whole message");
      else
        limits.max_queued_bytes = *n;
    }
  }
  if (auto v = map.take("shutdown_drain")) {
    if (auto d = read_duration(diag, *v)) limits.shutdown_drain = *d;
  }
  map.finish({"max_message_size", "max_reassembly_bytes", "max_queued_bytes", "shutdown_drain"});
}

void read_default(Diagnostics& diag, const Field& f, Document& doc) {
  MapReader map(diag, f, "the default action");
  DefaultAction& out = doc.config.default_action;
  auto action = map.require("action");
  if (action) {
    using K = DefaultAction::Kind;
    if (auto k = read_choice<K>(diag, *action, {{"drop", K::Drop}, {"fallback", K::Fallback}})) out.kind = *k;
  }
  auto to = map.take("to");
  if (out.kind == DefaultAction::Kind::Fallback) {
    if (!to) {
      diag.error(map.self().where, map.self().path, "missing required key \"to\" (action: fallback needs a destination)");
    } else if (auto name = read_text(diag, *to, "a destination name")) {
      out.fallback = *name;
      doc.default_marks.to = Spot{to->where, to->path};
    }
  } else if (to && action) {
    diag.error(to->key_where, to->path, "\"to\" is only used with action: fallback");
  }
  map.finish({"action", "to"});
}

}  // namespace


void read_document(Diagnostics& diag, const YAML::Node& root, Document& doc) {
  Config& cfg = doc.config;
  cfg.source_file = diag.file();
  if (root.IsNull() || !root.IsDefined()) {
    diag.error(Position{diag.file()}, "", "the file is empty (expected keys such as listeners, destinations and routes)");
    return;
  }
  Field top{"", root, diag.at(root.Mark()), diag.at(root.Mark())};
  doc.root = top.where;
  MapReader map(diag, top, "the relay configuration");
  if (!map.is_map()) return;

  if (auto f = map.take("log_level")) {
    log::Level level;
    if (auto text = read_text(diag, *f)) {
      if (log::parse_level(*text, level)) cfg.log_level = *text == "warn" ? "warning" : *text;
      else diag.error(f->where, f->path, "\"" + *text + "\" is not one of: debug, info, warning or error");
    }
  }
  if (auto f = map.take("limits")) read_limits(diag, *f, cfg.limits);

  size_t sections = 0;
  if (auto f = map.take("listeners")) {
    for (const Field& item : read_list(diag, *f, "listeners", false, true)) read_listener(diag, item, doc);
    sections += f->value.size();
  }
  if (auto f = map.take("destinations")) {
    for (const Field& item : read_list(diag, *f, "destinations", false, true)) read_destination(diag, item, doc);
    sections += f->value.size();
  }
  if (auto f = map.take("routes")) {
    size_t i = 0;
    for (const Field& item : read_list(diag, *f, "routes", false, true)) read_route(diag, item, i++, doc);
  }
  if (auto f = map.take("default")) read_default(diag, *f, doc);
  if (auto f = map.take("control")) read_control(diag, *f, cfg.control);
  if (auto f = map.take("metrics")) read_metrics(diag, *f, cfg.metrics);
  if (auto f = map.take("workers")) read_workers(diag, *f, cfg);
  map.finish({"log_level", "limits", "listeners", "destinations", "routes", "default", "control", "metrics",
              "workers"});

  if (sections == 0)
    diag.error(top.where, "", "no listeners and no destinations: the relay would have nothing to relay");
}

}  // namespace sctprelay::config
