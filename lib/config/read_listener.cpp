// One `listeners:` item: where the relay accepts associations, and whom it lets in.
#include "config/document.h"

namespace sctprelay::config {
namespace {

// The most messages per second a rate may name (and the largest burst): far above what one
// association carries, low enough that the token arithmetic stays exact.
constexpr uint64_t kMaxRate = 10'000'000;

void read_rate(Diagnostics& diag, const Field& f, Listener& l) {
  MapReader map(diag, f, "a rate limit");
  if (!map.is_map()) return;
  RateLimit rate;
  bool ok = true;
  if (auto v = map.require("messages_per_second")) {
    if (auto n = read_uint(diag, *v, 1, kMaxRate)) rate.messages_per_second = static_cast<uint32_t>(*n);
    else ok = false;
  } else {
    ok = false;
  }
  if (auto v = map.take("burst")) {
    if (auto n = read_uint(diag, *v, 1, kMaxRate)) rate.burst = static_cast<uint32_t>(*n);
    else ok = false;
  } else {
    rate.burst = rate.messages_per_second;  // a second's worth
  }
  map.finish({"messages_per_second", "burst"});
  if (ok) l.rate = rate;
}

}  // namespace

void read_listener(Diagnostics& diag, const Field& item, Document& doc) {
  MapReader map(diag, item, "a listener");
  if (!map.is_map()) return;
  Listener l;
  ListenerMarks marks;
  l.where = item.where;

  read_required_name(diag, map, doc, l.name, marks.name);

  read_addresses(diag, map, false, l.addresses, marks.addresses);
  if (auto port = map.require("port")) {
    if (auto v = read_uint(diag, *port, 1, 65535)) l.port = static_cast<uint16_t>(*v);
  }
  read_streams(diag, map, l.out_streams, l.in_streams);
  if (auto f = map.take("oversize")) {
    if (auto p = read_choice<OversizePolicy>(diag, *f, {{"abort", OversizePolicy::Abort}, {"drop", OversizePolicy::Drop}}))
      l.oversize = *p;
  }
  // An empty `allow` list is an error (it would refuse every peer): leave it out to admit any.
  if (auto f = map.take("allow")) read_prefixes(diag, *f, l.allow);
  if (auto f = map.take("max_associations")) {
    if (auto n = read_uint(diag, *f, 1, 10'000'000)) l.max_associations = static_cast<std::size_t>(*n);
  }
  if (auto f = map.take("rate")) read_rate(diag, *f, l);
  map.finish({"name", "address", "addresses", "port", "streams", "out_streams", "in_streams", "oversize", "allow",
              "max_associations", "rate"});

  doc.config.listeners.push_back(std::move(l));
  doc.listener_marks.push_back(std::move(marks));
}

}  // namespace sctprelay::config
