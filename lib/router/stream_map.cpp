// StreamMap construction: cut the stream space at every range boundary, then give each segment the
// first route covering it. Routes are visited in file order; a segment is "closed" once a route
// owns it, and a next-open-segment forest (union-find with path compression) skips closed ones,
// so the build is O(B log B + S) for B range boundaries and S segments, never routes x segments.
#include "router/stream_map.h"

#include <algorithm>

namespace sctprelay::router {
namespace {

constexpr uint32_t kStreamSpace = 65536;  // streams 0..65535
constexpr int32_t kNone = -1;

// Next open segment at or after `s` (s == size means "none left"), compressing the path walked.
uint32_t next_open(std::vector<uint32_t>& next, uint32_t s) {
  uint32_t root = s;
  while (next[root] != root) root = next[root];
  while (next[s] != root) {
    uint32_t up = next[s];
    next[s] = root;
    s = up;
  }
  return root;
}

}  // namespace

StreamMap::StreamMap(const std::vector<Entry>& entries) {
  if (entries.empty()) return;

  // Boundaries: 0, every range start, every range end + 1 (65536 is the implicit end).
  std::vector<uint32_t> bounds{0};
  for (const Entry& e : entries) {
    for (const auto& [first, last] : e.streams->ranges) {
      if (first > last) continue;
      bounds.push_back(first);
      bounds.push_back(uint32_t{last} + 1);
    }
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  if (bounds.back() == kStreamSpace) bounds.pop_back();
  const uint32_t segments = static_cast<uint32_t>(bounds.size());

  auto segment_of = [&](uint32_t stream) {  // first segment starting at or after `stream`
    return static_cast<uint32_t>(std::lower_bound(bounds.begin(), bounds.end(), stream) -
                                 bounds.begin());
  };

  std::vector<int32_t> owner(segments, kNone);
  std::vector<uint32_t> next(segments + 1);
  for (uint32_t i = 0; i <= segments; ++i) next[i] = i;
  uint32_t open = segments;

  auto claim = [&](uint32_t lo, uint32_t hi, int route) {  // segments [lo, hi)
    for (uint32_t s = next_open(next, lo); s < hi; s = next_open(next, s)) {
      owner[s] = route;
      next[s] = s + 1;
      --open;
    }
  };

  for (const Entry& e : entries) {
    if (open == 0) break;  // every segment already has its first route
    if (e.streams->any()) {
      claim(0, segments, e.route);
      continue;
    }
    for (const auto& [first, last] : e.streams->ranges) {
      if (first > last) continue;
      claim(segment_of(first), segment_of(uint32_t{last} + 1), e.route);
    }
  }

  // Keep only segments whose route differs from the previous one.
  for (uint32_t s = 0; s < segments; ++s) {
    if (!routes_.empty() && routes_.back() == owner[s]) continue;
    starts_.push_back(static_cast<uint16_t>(bounds[s]));
    routes_.push_back(owner[s]);
  }
  if (starts_.size() == 1 && routes_[0] == kNone) {  // nothing matches anywhere
    starts_.clear();
    routes_.clear();
  }
  starts_.shrink_to_fit();
  routes_.shrink_to_fit();
  // The low streams, where signalling traffic lives, also get a direct index.
  if (!starts_.empty()) {
    std::size_t flat = std::min<std::size_t>(kFlatStreams, starts_.back());
    low_.resize(flat);
    for (std::size_t s = 0; s < flat; ++s) low_[s] = slow_lookup(static_cast<uint16_t>(s));
  }
}

int StreamMap::lookup(uint16_t stream) const {
  if (starts_.empty()) return kNone;
  // The last segment runs to 65535: one comparison settles every stream in it (and every stream
  // at all when there is just one segment, the common case).
  if (stream >= starts_.back()) return routes_.back();
  if (stream < low_.size()) return low_[stream];
  return slow_lookup(stream);
}

int StreamMap::slow_lookup(uint16_t stream) const {
  // Last segment whose start <= stream; starts_[0] == 0 so there always is one.
  auto it = std::upper_bound(starts_.begin(), starts_.end(), stream);
  return routes_[static_cast<std::size_t>(it - starts_.begin()) - 1];
}

}  // namespace sctprelay::router
