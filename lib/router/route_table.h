// Route matching compiled from a Config: lookup cost does not grow with the number of routes.
// Pure data, no sockets: the relay asks "which route takes a message from source S on stream N with
// PPID P?" and gets the first route of the config (file order) that matches, or none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"

namespace sctprelay::router {

constexpr int kNoRoute = -1;

class RouteTable {
 public:
  RouteTable() = default;
  // Routes whose `from` names no known listener/destination are ignored (the loader rejects them).
  explicit RouteTable(const config::Config& cfg);

  // Index of a listener or destination name as a source; -1 when unknown.
  int source_index(std::string_view name) const;

  // Index into cfg.routes of the first route (in file order) matching, or kNoRoute.
  int match(int source, uint16_t stream, uint32_t ppid) const;

 private:
  // Implementation defined by router/route_table.cpp: per source, streams split into segments where
  // the set of matching routes is constant; per segment, the first route for "any PPID" and a hash
  // map for PPIDs that some route names.
  struct Segment {
    int any_ppid_route = kNoRoute;
    std::unordered_map<uint32_t, int> by_ppid;
  };
  struct SourceRoutes {
    std::vector<uint16_t> starts;      // segment i covers [starts[i], starts[i+1]-1]
    std::vector<Segment> segments;
    std::vector<uint16_t> stream_to_segment;  // flat O(1) index for streams < its size
  };
  std::unordered_map<std::string, int> sources_;
  std::vector<SourceRoutes> per_source_;
};

}  // namespace sctprelay::router
