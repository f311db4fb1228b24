// One `destinations:` item: a peer the relay connects to, or a group of accepted associations.
#include <algorithm>

#include "config/document.h"
#include "config/scalars.h"

namespace sctprelay::config {
namespace {

using Kind = Destination::Kind;

constexpr std::string_view kPeerOnly[] = {"address", "addresses", "streams", "out_streams", "in_streams", "reconnect",
                                          "associations"};
constexpr std::string_view kGroupOnly[] = {"listener", "match", "balance"};

void read_queue(Diagnostics& diag, const Field& f, QueueSettings& q) {
  MapReader map(diag, f, "queue settings");
  if (auto v = map.take("max_messages")) {
    if (auto n = read_uint(diag, *v, 1, 1'000'000'000)) q.max_messages = static_cast<std::size_t>(*n);
  }
  if (auto v = map.take("max_bytes")) {
    if (auto n = read_size(diag, *v)) {
      if (*n == 0) diag.error(v->where, v->path, "must be at least 1 byte");
      else q.max_bytes = *n;
    }
  }
  if (auto v = map.take("when_full")) {
    if (auto p = read_choice<FullPolicy>(diag, *v, {{"backpressure", FullPolicy::Backpressure}, {"drop", FullPolicy::Drop}}))
      q.when_full = *p;
  }
  if (auto v = map.take("ttl")) {
    if (auto d = read_duration(diag, *v)) {
      if (d->count() == 0) diag.error(v->where, v->path, "must be above 0 (leave \"ttl\" out for no limit)");
      else q.ttl = *d;
    }
  }
  map.finish({"max_messages", "max_bytes", "when_full", "ttl"});
}

void read_reconnect(Diagnostics& diag, const Field& f, Destination& d) {
  MapReader map(diag, f, "reconnect settings");
  auto min = map.take("min");
  auto max = map.take("max");
  if (min) {
    if (auto v = read_duration(diag, *min)) {
      if (v->count() == 0) diag.error(min->where, min->path, "must be above 0");
      else d.reconnect_min = *v;
    }
  }
  if (max) {
    if (auto v = read_duration(diag, *max)) {
      if (v->count() == 0) diag.error(max->where, max->path, "must be above 0");
      else d.reconnect_max = *v;
    }
  }
  if (d.reconnect_max < d.reconnect_min) {
    const Field& at = max ? *max : *min;
    diag.error(at.where, at.path,
               "reconnect max (" + std::to_string(d.reconnect_max.count()) + "ms) is below min (" +
                   std::to_string(d.reconnect_min.count()) + "ms)");
  }
  map.finish({"min", "max"});
}

// Keys of the other kind: named precisely rather than as "unknown".
void reject_other_kind(Diagnostics& diag, MapReader& map, Kind kind) {
  auto report = [&](std::string_view key, const char* applies) {
    if (auto f = map.take(key))
      diag.error(f->key_where, f->path,
                 std::string(1, '"').append(key) + "\" applies only to kind: " + applies +
                     " (this destination is kind: " + (kind == Kind::Peer ? "peer" : "group") + ")");
  };
  if (kind == Kind::Peer) {
    for (auto key : kGroupOnly) report(key, "group");
  } else {
    for (auto key : kPeerOnly) report(key, "peer");
  }
}

void read_return(Diagnostics& diag, MapReader& map, Destination& d) {
  if (auto f = map.take("return")) {
    if (auto r = read_choice<ReturnPath>(diag, *f, {{"origin", ReturnPath::Origin}, {"routes", ReturnPath::Routes}}))
      d.return_path = *r;
  }
}

void read_peer(Diagnostics& diag, MapReader& map, Destination& d, DestinationMarks& marks) {
  read_addresses(diag, map, true, d.addresses, marks.addresses);
  if (auto port = map.require("port")) {
    if (auto v = read_uint(diag, *port, 1, 65535)) d.port = static_cast<uint16_t>(*v);
  }
  read_streams(diag, map, d.out_streams, d.in_streams);
  if (auto f = map.take("reconnect")) read_reconnect(diag, *f, d);
  read_return(diag, map, d);
  if (auto f = map.take("associations")) {
    if (auto m = read_choice<UpstreamMode>(diag, *f, {{"shared", UpstreamMode::Shared}, {"per-source", UpstreamMode::PerSource}}))
      d.associations = *m;
  }
}

void read_group(Diagnostics& diag, MapReader& map, Destination& d, DestinationMarks& marks) {
  // Members of a group are often clients too: what they send follows routes unless told otherwise.
  d.return_path = ReturnPath::Routes;
  read_return(diag, map, d);
  if (auto f = map.take("listener")) {
    if (auto name = read_text(diag, *f, "a listener name")) {
      d.listener = *name;
      marks.listener = Spot{f->where, f->path};
    }
  }
  if (auto f = map.take("match")) read_prefixes(diag, *f, d.match);
  if (auto f = map.take("port")) {
    if (auto v = read_uint(diag, *f, 1, 65535)) d.match_port = static_cast<uint16_t>(*v);
  }
  if (auto f = map.take("balance")) {
    if (auto b = read_choice<Balance>(diag, *f, {{"round-robin", Balance::RoundRobin}, {"by-stream", Balance::ByStream}}))
      d.balance = *b;
  }
}

}  // namespace

void read_destination(Diagnostics& diag, const Field& item, Document& doc) {
  MapReader map(diag, item, "a destination");
  if (!map.is_map()) return;
  Destination d;
  DestinationMarks marks;
  d.where = item.where;

  read_required_name(diag, map, doc, d.name, marks.name);

  bool kind_known = true;
  if (auto f = map.take("kind")) {
    if (auto k = read_choice<Kind>(diag, *f, {{"peer", Kind::Peer}, {"group", Kind::Group}})) d.kind = *k;
    else kind_known = false;
  } else if (!map.has("address") && !map.has("addresses")) {
    diag.error(item.where, item.path,
               "missing required key \"addresses\" (a peer destination needs the addresses to connect to; "
               "for accepted associations set kind: group)");
    kind_known = false;
  }

  if (kind_known) {
    if (d.kind == Kind::Peer) read_peer(diag, map, d, marks);
    else read_group(diag, map, d, marks);
    reject_other_kind(diag, map, d.kind);
  }
  if (auto f = map.take("queue")) read_queue(diag, *f, d.queue);
  if (auto f = map.take("stream_overflow")) {
    if (auto s = read_choice<StreamOverflow>(diag, *f, {{"modulo", StreamOverflow::Modulo}, {"reject", StreamOverflow::Reject}}))
      d.stream_overflow = *s;
  }
  if (kind_known) {
    map.finish({"name", "kind", "queue", "stream_overflow", "port", "address", "addresses", "streams", "out_streams",
                "in_streams", "reconnect", "return", "associations", "listener", "match", "balance"});
  } else {  // kind-specific keys are not checked: their meaning depends on the kind
    for (auto key : kPeerOnly) map.take(key);
    for (auto key : kGroupOnly) map.take(key);
    map.take("port");
    map.finish({"name", "kind", "queue", "stream_overflow"});
  }

  doc.config.destinations.push_back(std::move(d));
  doc.destination_marks.push_back(std::move(marks));
}

}  // namespace sctprelay::config
