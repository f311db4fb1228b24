// The top level of the file: log level, limits, the lists of sections, and the default action.
#include "config/document.h"
#include "util/log.h"

namespace sctprelay::config {
namespace {

void read_limits(Diagnostics& diag, const Field& f, Limits& limits) {
  MapReader map(diag, f, "limits");
  if (auto v = map.take("max_message_size")) {
    if (auto n = read_size(diag, *v)) {
      if (*n == 0) diag.error(v->where, v->path, "must be at least 1 byte");
      else limits.max_message_size = *n;
    }
  }
  if (auto v = map.take("shutdown_drain")) {
    if (auto d = read_duration(diag, *v)) limits.shutdown_drain = *d;
  }
  map.finish({"max_message_size", "shutdown_drain"});
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
  map.finish({"log_level", "limits", "listeners", "destinations", "routes", "default"});

  if (sections == 0)
    diag.error(top.where, "", "no listeners and no destinations: the relay would have nothing to relay");
}

}  // namespace sctprelay::config
