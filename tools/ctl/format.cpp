#include "ctl/format.h"

#include <cstdio>
#include <ctime>

namespace sctprelay::ctl {

std::string human_bytes(uint64_t bytes) {
  static const char* const kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1024.0;
  std::size_t u = 0;
  while (v >= 1024.0 && u + 1 < sizeof kUnits / sizeof kUnits[0]) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string human_duration(uint64_t s) {
  const uint64_t days = s / 86400, hours = s % 86400 / 3600, minutes = s % 3600 / 60, secs = s % 60;
  auto n = [](uint64_t v, const char* unit) { return std::to_string(v) + unit; };
  if (days > 0) return n(days, "d") + " " + n(hours, "h") + " " + n(minutes, "m");
  if (hours > 0) return n(hours, "h") + " " + n(minutes, "m");
  if (minutes > 0) return n(minutes, "m") + " " + n(secs, "s");
  return n(secs, "s");
}

std::string local_time(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (localtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[64];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0) return std::to_string(unix_seconds);
  return buf;
}

std::string milliseconds(uint64_t ms) { return std::to_string(ms) + "ms"; }

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", seconds);
  return buf;
}

}  // namespace sctprelay::ctl
