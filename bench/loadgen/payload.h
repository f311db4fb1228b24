// The benchmark's message layout: a fixed header, then a fill byte pattern the sink can check.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace loadgen {

struct Header {
  uint32_t source;     // which association of the source sent it
  uint32_t seq;        // per (source, stream), from 0
  uint16_t stream;     // the stream it was sent on (a relay may rewrite the real one)
  uint16_t reserved;
  uint32_t size;       // whole message size
  uint64_t sent_ns;    // CLOCK_MONOTONIC at send (latency)
};
static_assert(sizeof(Header) == 24);
constexpr size_t kMinSize = sizeof(Header);

inline uint8_t fill_byte(const Header& h) { return uint8_t(h.seq * 7 + h.stream + 1); }

// Writes the header (and, if `refill`, the fill pattern) into buf[0, h.size).
inline void write_message(std::string& buf, const Header& h, bool refill) {
  if (buf.size() < h.size) buf.resize(h.size);
  if (refill) std::memset(buf.data() + sizeof h, fill_byte(h), h.size - sizeof h);
  std::memcpy(buf.data(), &h, sizeof h);
}

inline Header read_header(const char* data) {
  Header h;
  std::memcpy(&h, data, sizeof h);
  return h;
}

// Checks size and the first and last fill bytes (cheap; catches cut or merged messages).
inline bool looks_intact(const char* data, size_t size) {
  if (size < sizeof(Header)) return false;
  Header h = read_header(data);
  if (h.size != size) return false;
  if (size == sizeof h) return true;
  uint8_t f = fill_byte(h);
  return uint8_t(data[sizeof h]) == f && uint8_t(data[size - 1]) == f;
}

}  // namespace loadgen
