#include "util/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <sys/time.h>

namespace sctprelay::log {
namespace {
// Set by the main thread (start, reload), read by every worker's.
std::atomic<Level> g_level{Level::Info};
std::atomic<bool> g_timestamps{false};

// Syslog-style priority prefixes: journald (SyslogLevelPrefix=yes) maps them to levels.
const char* prefix(Level l) {
  switch (l) {
    case Level::Debug: return "<7>debug: ";
    case Level::Info: return "<6>";
    case Level::Warning: return "<4>warning: ";
    case Level::Error: return "<3>error: ";
  }
  return "";
}
}  // namespace

void set_level(Level l) { g_level = l; }
Level level() { return g_level; }
void set_timestamps(bool on) { g_timestamps = on; }

bool parse_level(std::string_view t, Level& out) {
  if (t == "debug") out = Level::Debug;
  else if (t == "info") out = Level::Info;
  else if (t == "warning" || t == "warn") out = Level::Warning;
  else if (t == "error") out = Level::Error;
  else return false;
  return true;
}

void vwrite(Level l, const char* fmt, va_list ap) {
  if (l < g_level) return;
  char line[2048];
  int n = 0;
  const char* p = prefix(l);
  if (g_timestamps) {
    // The priority prefix is for journald; a terminal reader gets a timestamp instead.
    timeval tv;
    gettimeofday(&tv, nullptr);
    tm t;
    localtime_r(&tv.tv_sec, &t);
    n = std::snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %s", t.tm_hour, t.tm_min, t.tm_sec,
                      long(tv.tv_usec / 1000), p + 3);
  } else {
    n = std::snprintf(line, sizeof line, "%s", p);
  }
  if (n < 0) n = 0;
  int m = std::vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  std::size_t len = n + (m < 0 ? 0 : std::min<std::size_t>(m, sizeof line - n - 2));
  line[len++] = '\n';
  std::fwrite(line, 1, len, stderr);
}

void write(Level l, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vwrite(l, fmt, ap);
  va_end(ap);
}

}  // namespace sctprelay::log
