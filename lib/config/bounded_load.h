// Loading the configuration file within bounds, whatever the YAML parser does with it.
//
// A parser can be made to spin or to grow without end by a few bytes (yaml-cpp 0.7's LoadAll did
// on ", 1m)"), and even a plain file can cost more than its size suggests: yaml-cpp takes several
// hundred bytes and some microseconds per node, so 4 MiB of "[0,0,0,...]" take more than 512 MiB
// and half a minute. So a file is loaded in three steps:
//   1. it is read, at most kMaxConfigBytes of it (a larger file is refused);
//   2. those bytes are parsed and validated in full (config::load_string) in a short-lived child
//      process (util/bounded_child.h) that has kMaxLoadTime of wall-clock time and
//      kMaxLoadMemory of address space beyond what it inherited; a child that does not finish
//      within them is killed and the file refused, saying which bound it hit;
//   3. a child that finished proves that the same bytes load within the bounds, so the caller then
//      loads them in its own process (the same deterministic code on the same bytes) to get the
//      Config or the errors, positions and all.
// `sctprelayd --check` and the daemon's start use load_file_bounded(), which waits for the child;
// a reload uses BackgroundLoad (background_load.h), which watches the child from the event loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/loader.h"
#include "util/bounded_child.h"

namespace sctprelay::config {

// A configuration of 10,000 routes is about 0.4 MiB; it loads in under half a second of CPU
// natively and within a few seconds in the emulated test VM, and under valgrind there (the
// benchmarks' 10,000-route run) it takes several times that. The bounds leave room for all of it.
inline constexpr std::size_t kMaxConfigBytes = 4u << 20;      // 4 MiB
inline constexpr std::chrono::seconds kMaxLoadTime{30};       // wall clock, for parsing + validation
inline constexpr uint64_t kMaxLoadMemory = 512ull << 20;      // 512 MiB of address space

struct LoadLimits {
  std::size_t max_bytes = kMaxConfigBytes;
  std::chrono::milliseconds max_time = kMaxLoadTime;
  uint64_t max_memory = kMaxLoadMemory;
};

struct BoundedLoadResult {
  LoadResult load;       // the Config, or every problem; a refusal is its one error
  bool refused = false;  // not parsed in full: too large, or the parser hit a bound
};

// Reads `path` whole; nullopt and one error ("cannot open: ...", or a refusal naming the file's size
// and the limit, with `refused` set) in `failure` when it cannot or may not.
std::optional<std::string> read_config_file(const std::string& path, std::size_t max_bytes,
                                            BoundedLoadResult& failure);

// Starts the bounded parse of `text` (positions name `name`). Throws std::system_error when no
// child can be started.
std::unique_ptr<BoundedChild> start_bounded_check(const std::string& text, const std::string& name,
                                                  const LoadLimits& limits);

// What the child's end means: a child that finished lets `text` be loaded here; one that did not
// gives the refusal ("refused: the YAML parser did not finish within 30 s", ...).
BoundedLoadResult conclude_bounded_check(const ChildEnd& end, const std::string& text, const std::string& name,
                                         const LoadLimits& limits);

// The refusal of a file whose check could not even start (`why`: e.g. "fork: ...").
BoundedLoadResult refusal(const std::string& name, const std::string& why);

// All three steps, waiting for the child.
BoundedLoadResult load_file_bounded(const std::string& path, const LoadLimits& limits = {});

}  // namespace sctprelay::config
