// One `routes:` item: which messages from a source go to which destinations, and how.
#include <algorithm>

#include "config/document.h"
#include "config/scalars.h"

namespace sctprelay::config {
namespace {

// Sorted, overlaps and neighbours merged.
std::vector<std::pair<uint16_t, uint16_t>> merge(std::vector<std::pair<uint16_t, uint16_t>> ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<uint16_t, uint16_t>> out;
  for (auto r : ranges) {
    if (!out.empty() && static_cast<uint32_t>(r.first) <= static_cast<uint32_t>(out.back().second) + 1)
      out.back().second = std::max(out.back().second, r.second);
    else
      out.push_back(r);
  }
  return out;
}

// any | 3 | "0-7" | [1, 2, "5-9"]
void read_stream_set(Diagnostics& diag, const Field& f, StreamSet& set) {
  if (f.value.IsScalar() && f.value.Scalar() == "any") return;
  if (!f.value.IsScalar() && !f.value.IsSequence()) {
    diag.error(f.where, f.path, "expected any, a stream number, a range such as 0-7, or a list of them; got " + describe(f.value));
    return;
  }
  std::vector<std::pair<uint16_t, uint16_t>> ranges;
  for (const Field& item : read_list(diag, f, "stream numbers or ranges", true)) {
    if (!item.value.IsScalar()) {
      diag.error(item.where, item.path, "expected a stream number or a range such as 0-7, got " + describe(item.value));
      continue;
    }
    if (item.value.Scalar() == "any") {
      diag.error(item.where, item.path, "\"any\" stands alone: write streams: any");
      continue;
    }
    auto r = scalars::parse_stream_range(item.value.Scalar());
    if (scalars::ok(r)) ranges.push_back(scalars::value(r));
    else diag.error(item.where, item.path, scalars::error(r));
  }
  set.ranges = merge(std::move(ranges));
}

}  // namespace

void read_route(Diagnostics& diag, const Field& item, size_t index, Document& doc) {
  MapReader map(diag, item, "a route");
  if (!map.is_map()) return;
  Route r;
  RouteMarks marks;
  r.where = item.where;
  r.name = "route " + std::to_string(index + 1);

  if (auto f = map.take("name")) {
    marks.name = Spot{f->where, f->path};
    if (auto n = read_name(diag, *f)) r.name = *n;
  }
  if (auto f = map.require("from")) {
    if (auto n = read_text(diag, *f, "the name of a listener or destination")) {
      r.from = *n;
      marks.from = Spot{f->where, f->path};
    }
  }
  if (auto f = map.take("streams")) read_stream_set(diag, *f, r.streams);
  if (auto f = map.take("ppid")) {
    if (auto v = read_uint(diag, *f, 0, UINT32_MAX)) r.ppid = static_cast<uint32_t>(*v);
  }

  auto to = map.require("to");
  if (to) {
    for (const Field& target : read_list(diag, *to, "destination names", true)) {
      auto n = read_text(diag, target, "a destination name");
      if (!n) continue;
      if (std::find(r.to.begin(), r.to.end(), *n) != r.to.end()) {
        diag.error(target.where, target.path, "destination \"" + *n + "\" is listed twice");
        continue;
      }
      r.to.push_back(*n);
      marks.to.push_back(Spot{target.where, target.path});
    }
  }
  const size_t targets = to && to->value.IsSequence() ? to->value.size() : 1;

  r.mode = targets > 1 ? RouteMode::FanOut : RouteMode::Forward;
  if (auto f = map.take("mode")) {
    auto m = read_choice<RouteMode>(
        diag, *f, {{"forward", RouteMode::Forward}, {"fanout", RouteMode::FanOut}, {"balance", RouteMode::Balance}});
    if (m) r.mode = *m;
    if (m && *m == RouteMode::Forward && targets > 1)
      diag.error(f->where, f->path,
                 "mode forward sends to one destination, but \"to\" lists " + std::to_string(targets) +
                     " (use mode: fanout to copy to all of them, or mode: balance to pick one)");
  }
  if (auto f = map.take("balance")) {
    if (auto b = read_choice<Balance>(diag, *f, {{"round-robin", Balance::RoundRobin}, {"by-stream", Balance::ByStream}}))
      r.balance = *b;
    if (r.mode != RouteMode::Balance)
      diag.error(f->key_where, f->path, "\"balance\" is only used with mode: balance");
  }
  if (auto f = map.take("set_stream")) {
    if (auto v = read_uint(diag, *f, 0, 65535)) r.set_stream = static_cast<uint16_t>(*v);
  }
  if (auto f = map.take("set_ppid")) {
    if (auto v = read_uint(diag, *f, 0, UINT32_MAX)) r.set_ppid = static_cast<uint32_t>(*v);
  }
  map.finish({"name", "from", "streams", "ppid", "to", "mode", "balance", "set_stream", "set_ppid"});

  doc.config.routes.push_back(std::move(r));
  doc.route_marks.push_back(std::move(marks));
}

}  // namespace sctprelay::config
