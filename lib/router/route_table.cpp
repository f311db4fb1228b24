// RouteTable: names sources, groups each source's routes by PPID and compiles every group into a
// StreamMap. See route_table.h for the lookup rule.
#include "router/route_table.h"

namespace sctprelay::router {

RouteTable::RouteTable(const config::Config& cfg) {
  // Dense source indices: listeners first, then destinations, in file order. A name used twice
  // keeps its first index (the loader rejects duplicates anyway).
  auto add_source = [&](const std::string& name) {
    sources_.emplace(name, static_cast<int>(sources_.size()));
  };
  for (const auto& l : cfg.listeners) add_source(l.name);
  for (const auto& d : cfg.destinations) add_source(d.name);
  per_source_.resize(sources_.size());

  // Group routes per source and PPID, keeping file order inside each group.
  struct Groups {
    std::vector<StreamMap::Entry> any_ppid;
    std::unordered_map<uint32_t, std::vector<StreamMap::Entry>> by_ppid;
  };
  std::vector<Groups> groups(per_source_.size());
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    const config::Route& r = cfg.routes[i];
    int src = source_index(r.from);
    if (src < 0) continue;
    StreamMap::Entry entry{static_cast<int>(i), &r.streams};
    if (r.ppid)
      groups[src].by_ppid[*r.ppid].push_back(entry);
    else
      groups[src].any_ppid.push_back(entry);
  }

  for (std::size_t s = 0; s < groups.size(); ++s) {
    per_source_[s].any_ppid = StreamMap(groups[s].any_ppid);
    per_source_[s].by_ppid.reserve(groups[s].by_ppid.size());
    for (const auto& [ppid, entries] : groups[s].by_ppid)
      per_source_[s].by_ppid.emplace(ppid, StreamMap(entries));
  }
}

int RouteTable::source_index(std::string_view name) const {
  auto it = sources_.find(name);
  return it == sources_.end() ? -1 : it->second;
}

int RouteTable::match(int source, uint16_t stream, uint32_t ppid) const {
  if (source < 0 || static_cast<std::size_t>(source) >= per_source_.size()) return kNoRoute;
  const SourceRoutes& routes = per_source_[static_cast<std::size_t>(source)];
  int best = routes.any_ppid.lookup(stream);
  if (routes.by_ppid.empty()) return best;
  auto it = routes.by_ppid.find(ppid);
  if (it == routes.by_ppid.end()) return best;
  int specific = it->second.lookup(stream);
  if (specific != kNoRoute && (best == kNoRoute || specific < best)) best = specific;
  return best;
}

RouteTable::Stats RouteTable::stats() const {
  Stats st;
  auto add = [&](const StreamMap& m) {
    if (m.segment_count() == 0) return;
    ++st.stream_maps;
    st.segments += m.segment_count();
    st.memory_bytes += m.memory_bytes();
  };
  for (const SourceRoutes& sr : per_source_) {
    bool used = sr.any_ppid.segment_count() > 0 || !sr.by_ppid.empty();
    if (used) ++st.sources;
    add(sr.any_ppid);
    for (const auto& [ppid, m] : sr.by_ppid) add(m);
    st.memory_bytes += sr.by_ppid.size() * (sizeof(uint32_t) + sizeof(StreamMap) + 2 * sizeof(void*));
  }
  st.memory_bytes += per_source_.size() * sizeof(SourceRoutes);
  return st;
}

}  // namespace sctprelay::router
