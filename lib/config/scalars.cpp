#include "config/scalars.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <optional>

namespace sctprelay::config::scalars {
namespace {

std::string quoted(std::string_view t) {
  std::string out(1, '"');
  out += t;
  out += '"';
  return out;
}

std::string_view trim(std::string_view t) {
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  return t;
}

// Whole text as an unsigned number; false on anything else (sign, junk, overflow).
bool to_u64(std::string_view t, uint64_t& out) {
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  }
  if (t.empty()) return false;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out, base);
  return ec == std::errc() && end == t.data() + t.size();
}

// Splits "12.5ms" into number "12.5" and unit "ms".
void split_unit(std::string_view t, std::string_view& number, std::string_view& unit) {
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  number = t.substr(0, i);
  unit = trim(t.substr(i));
}

}  // namespace

Parsed<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max) {
  std::string_view t = trim(text);
  uint64_t v = 0;
  if (t.empty()) return Problem{"expected a whole number, got nothing"};
  if (t[0] == '-') {
    if (to_u64(t.substr(1), v)) return Problem{quoted(t) + " is negative; allowed range is " + std::to_string(min) + ".." + std::to_string(max)};
    return Problem{"expected a whole number, got " + quoted(t)};
  }
  if (!to_u64(t, v)) {
    bool digits = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (digits)  // only digits but did not fit 64 bits
      return Problem{quoted(t) + " is out of range " + std::to_string(min) + ".." + std::to_string(max)};
    return Problem{"expected a whole number, got " + quoted(t)};
  }
  if (v < min || v > max)
    return Problem{std::string(t) + " is out of range " + std::to_string(min) + ".." + std::to_string(max)};
  return v;
}

Parsed<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const std::string hint = " is not a duration (write e.g. 250ms, 5s, 1.5s, 1m, 1h)";
  std::string_view t = trim(text);
  std::string_view number, unit;
  split_unit(t, number, unit);
  if (number.empty() || number.front() == '.' || number.back() == '.') return Problem{quoted(t) + hint};

  uint64_t per_unit_ms = 0;
  if (unit == "ms") per_unit_ms = 1;
  else if (unit == "s") per_unit_ms = 1000;
  else if (unit == "m" || unit == "min") per_unit_ms = 60'000;
  else if (unit == "h") per_unit_ms = 3'600'000;
  else if (unit.empty()) {
    uint64_t zero = 1;
    if (to_u64(number, zero) && zero == 0) return std::chrono::milliseconds(0);
    return Problem{quoted(t) + " has no unit (write e.g. " + std::string(number) + "ms or " + std::string(number) + "s)"};
  } else {
    return Problem{quoted(t) + hint};
  }

  // Integer part and fraction as exact integers: value_ms = (int * 10^d + frac) * per_unit / 10^d.
  auto dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : number.substr(dot + 1);
  if (frac.find('.') != std::string_view::npos || frac.size() > 6) return Problem{quoted(t) + hint};
  uint64_t w = 0, f = 0, scale = 1;
  if (!to_u64(whole, w) || (!frac.empty() && !to_u64(frac, f))) return Problem{quoted(t) + hint};
  for (size_t i = 0; i < frac.size(); ++i) scale *= 10;
  constexpr uint64_t kMaxMs = 365ull * 24 * 3'600'000;  // a year is plenty for any timer here
  if (w > kMaxMs / per_unit_ms) return Problem{quoted(t) + " is too long (at most a year)"};
  uint64_t scaled = (w * scale + f) * per_unit_ms;
  if (scaled % scale != 0) return Problem{quoted(t) + " is finer than a millisecond"};
  uint64_t ms = scaled / scale;
  if (ms > kMaxMs) return Problem{quoted(t) + " is too long (at most a year)"};
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Parsed<std::size_t> parse_size(std::string_view text) {
  const std::string hint = " is not a size (write bytes, or e.g. 64KiB, 1MiB, 1GiB)";
  std::string_view t = trim(text);
  std::string_view number, unit;
  split_unit(t, number, unit);
  uint64_t n = 0;
  if (number.empty() || !to_u64(number, n)) {
    if (!t.empty() && t[0] == '-') return Problem{quoted(t) + " is negative"};
    return Problem{quoted(t) + hint};
  }
  uint64_t mult = 0;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  else if (unit == "KB" || unit == "kB") mult = 1000;
  else if (unit == "MB") mult = 1000 * 1000;
  else if (unit == "GB") mult = 1000 * 1000 * 1000;
  else return Problem{quoted(t) + hint};
  if (n > std::numeric_limits<std::size_t>::max() / mult) return Problem{quoted(t) + " is too large"};
  return static_cast<std::size_t>(n * mult);
}

std::string format_size(std::size_t bytes) {
  if (bytes != 0) {
    if (bytes % (1ull << 30) == 0) return std::to_string(bytes >> 30) + "GiB";
    if (bytes % (1ull << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
    if (bytes % (1ull << 10) == 0) return std::to_string(bytes >> 10) + "KiB";
  }
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

Parsed<std::string> parse_address(std::string_view text) {
  std::string t(trim(text));
  if (t.size() > 2 && t.front() == '[' && t.back() == ']') t = t.substr(1, t.size() - 2);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, t.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET, buf, out, sizeof out));
  if (inet_pton(AF_INET6, t.c_str(), buf) == 1) return std::string(inet_ntop(AF_INET6, buf, out, sizeof out));
  if (t.find('%') != std::string::npos) return Problem{quoted(t) + " has a zone index; give a global or loopback address"};
  if (t.find('/') != std::string::npos) return Problem{quoted(t) + " is a prefix; an address is needed here"};
  return Problem{quoted(t) + " is not an IPv4 or IPv6 address (host names are not resolved)"};
}

Parsed<Prefix> parse_prefix(std::string_view text) {
  std::string_view t = trim(text);
  auto slash = t.find('/');
  auto addr = parse_address(t.substr(0, slash));
  if (!ok(addr)) {
    if (slash == std::string_view::npos) return Problem{error(addr)};
    return Problem{quoted(t) + ": " + error(addr)};
  }
  Prefix p;
  p.address = value(addr);
  if (slash == std::string_view::npos) return p;
  int max_len = is_ipv6(p.address) ? 128 : 32;
  auto len = parse_uint(t.substr(slash + 1), 0, static_cast<uint64_t>(max_len));
  if (!ok(len))
    return Problem{quoted(t) + ": prefix length must be 0.." + std::to_string(max_len) + (is_ipv6(p.address) ? " for IPv6" : " for IPv4")};
  p.length = static_cast<int>(value(len));
  return p;
}

Parsed<std::pair<uint16_t, uint16_t>> parse_stream_range(std::string_view text) {
  std::string_view t = trim(text);
  auto number = [&](std::string_view part, uint16_t& out) -> std::optional<Problem> {
    auto n = parse_uint(part, 0, 65535);
    if (ok(n)) {
      out = static_cast<uint16_t>(value(n));
      return std::nullopt;
    }
    uint64_t big = 0;
    if (to_u64(trim(part), big)) return Problem{"stream " + std::string(trim(part)) + " is out of range 0..65535"};
    return Problem{"expected a stream number or a range such as 0-7, got " + quoted(t)};
  };
  auto dash = t.find('-', 1);  // a leading '-' is a sign, not a range
  uint16_t first = 0, last = 0;
  if (auto bad = number(t.substr(0, dash), first)) return *bad;
  if (dash == std::string_view::npos) return std::pair{first, first};
  if (auto bad = number(t.substr(dash + 1), last)) return *bad;
  if (last < first) return Problem{"stream range " + quoted(t) + " is backwards (write the lower stream first)"};
  return std::pair{first, last};
}

bool is_wildcard(std::string_view a) { return a == "0.0.0.0" || a == "::"; }
bool is_ipv6(std::string_view a) { return a.find(':') != std::string_view::npos; }

}  // namespace sctprelay::config::scalars
