// Route matching compiled from a Config: lookup cost does not grow with the number of routes.
// Pure data, no sockets: the relay asks "which route takes a message from source S on stream N with
// PPID P?" and gets the first route of the config (file order) that matches, or none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "router/stream_map.h"

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

  // Sizes of the compiled table, e.g. for a startup log line.
  struct Stats {
    std::size_t sources = 0;       // sources with at least one route
    std::size_t stream_maps = 0;   // one per source for PPID-less routes + one per (source, PPID)
    std::size_t segments = 0;      // total over all stream maps
    std::size_t memory_bytes = 0;  // approximate heap use of the stream maps
  };
  Stats stats() const;

 private:
  // Per source, routes are split into groups: the PPID-less ones, and one group per PPID that some
  // route names. Each group compiles into a StreamMap (stream -> first route of the group). The first
  // match for (stream, ppid) is the earlier of the PPID-less group's answer and the answer of group
  // `ppid`, since both groups keep file order. Lookup: two binary searches over segment starts
  // (<= 17 steps each) plus one hash lookup; memory is linear and build time
  // O(B log B) in the number B of range boundaries written, never routes x segments.
  struct SourceRoutes {
    StreamMap any_ppid;
    std::unordered_map<uint32_t, StreamMap> by_ppid;
  };
  // Transparent hash so source_index(string_view) does not build a std::string.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int, NameHash, std::equal_to<>> sources_;
  std::vector<SourceRoutes> per_source_;
};

}  // namespace sctprelay::router
