// A map from SCTP stream number (0..65535) to "the first route, in file order, whose stream set
// contains this stream", restricted to one group of routes (one source, one PPID or no PPID).
// Built once from the routes in file order; a lookup is a binary search over segment starts,
// at most 17 comparisons whatever the number of routes.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "config/config.h"

namespace sctprelay::router {

class StreamMap {
 public:
  // One route of the group: its index into cfg.routes and its stream set.
  struct Entry {
    int route;
    const config::StreamSet* streams;
  };

  StreamMap() = default;
  // `entries` must be in file order (ascending route index). Ranges with first > last are ignored.
  explicit StreamMap(const std::vector<Entry>& entries);

  // First route of the group containing `stream`, or -1 (kNoRoute).
  int lookup(uint16_t stream) const;

  // Segments after merging neighbours that map to the same route (for tests and size reports).
  std::size_t segment_count() const { return starts_.size(); }
  std::size_t memory_bytes() const {
    return starts_.capacity() * sizeof(uint16_t) + (routes_.capacity() + low_.capacity()) * sizeof(int32_t);
  }

 private:
  static constexpr std::size_t kFlatStreams = 64;
  int slow_lookup(uint16_t stream) const;
  // Segment i covers streams [starts_[i], starts_[i+1]-1] (the last one up to 65535) and maps to
  // routes_[i]. starts_[0] == 0 whenever the map is not empty.
  std::vector<uint16_t> starts_;
  std::vector<int32_t> routes_;
  std::vector<int32_t> low_;  // route for streams below min(64, last segment's start), precomputed
};

}  // namespace sctprelay::router
