// How sctprelayctl writes numbers, sizes, times and durations for people.
#pragma once

#include <cstdint>
#include <string>

namespace sctprelay::ctl {

// "0 B", "512 B", "4.1 KiB", "1.2 MiB", "3.0 GiB" (1024-based).
std::string human_bytes(uint64_t bytes);
// "45s", "12m 5s", "4h 12m", "3d 4h 12m".
std::string human_duration(uint64_t seconds);
// Unix seconds as local time "2026-12-02 14:03:11"; "-" for 0 (never).
std::string local_time(int64_t unix_seconds);
// "3ms".
std::string milliseconds(uint64_t ms);
// "1.5" -> "1.5 s", 60 -> "60 s".
std::string seconds_text(double seconds);

}  // namespace sctprelay::ctl
