// Text-to-value parsers for config scalars: durations, sizes, numbers, addresses, prefixes and
// stream ranges. Pure functions, no YAML: each returns the value or a message for the operator.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "config/config.h"

namespace sctprelay::config::scalars {

// Why a text is not a value: a sentence fragment without position, for the operator.
struct Problem {
  std::string message;
};

// Either a value or the Problem with the text.
template <class T>
using Parsed = std::variant<T, Problem>;

template <class T>
bool ok(const Parsed<T>& p) { return p.index() == 0; }
template <class T>
const T& value(const Parsed<T>& p) { return std::get<0>(p); }
template <class T>
const std::string& error(const Parsed<T>& p) { return std::get<1>(p).message; }

// Unsigned integer, decimal or 0x-hex, within [min, max].
Parsed<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);

// "250ms", "5s", "1.5s", "1m", "2h"; a bare "0" is accepted. Whole milliseconds only.
Parsed<std::chrono::milliseconds> parse_duration(std::string_view text);

// "1048576", "512B", "64KiB", "1MiB", "1GiB" (1024-based) or "64KB", "1MB", "1GB" (1000-based).
Parsed<std::size_t> parse_size(std::string_view text);

// A size as the file would write it: "64MiB", "512KiB", "1GiB" when exact, else "1000 bytes".
std::string format_size(std::size_t bytes);

// IPv4 or IPv6 literal (no host names, no zone index). Returns the canonical text form.
Parsed<std::string> parse_address(std::string_view text);

// "10.0.0.0/8", "fd00::/8", or a plain address (full-length match).
Parsed<Prefix> parse_prefix(std::string_view text);

// "7" or "0-7" (inclusive), stream numbers 0..65535.
Parsed<std::pair<uint16_t, uint16_t>> parse_stream_range(std::string_view text);

// True for 0.0.0.0 and :: (in canonical form, as parse_address returns).
bool is_wildcard(std::string_view canonical_address);
bool is_ipv6(std::string_view canonical_address);

}  // namespace sctprelay::config::scalars
