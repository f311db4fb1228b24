// Leveled logging to stderr, one line per event (journald adds time and unit when run by systemd).
#pragma once

#include <cstdarg>
#include <string_view>

namespace sctprelay::log {

enum class Level { Debug = 0, Info = 1, Warning = 2, Error = 3 };

void set_level(Level level);
Level level();
// "debug", "info", "warning", "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);
// Prefix lines with a wall-clock timestamp (off when stderr goes to journald).
void set_timestamps(bool on);

void write(Level level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void vwrite(Level level, const char* fmt, va_list ap);

}  // namespace sctprelay::log

#define LOG_DEBUG(...)                                                                        \
  do {                                                                                        \
    if (::sctprelay::log::level() <= ::sctprelay::log::Level::Debug)                          \
      ::sctprelay::log::write(::sctprelay::log::Level::Debug, __VA_ARGS__);                   \
  } while (0)
#define LOG_INFO(...) ::sctprelay::log::write(::sctprelay::log::Level::Info, __VA_ARGS__)
#define LOG_WARN(...) ::sctprelay::log::write(::sctprelay::log::Level::Warning, __VA_ARGS__)
#define LOG_ERROR(...) ::sctprelay::log::write(::sctprelay::log::Level::Error, __VA_ARGS__)
