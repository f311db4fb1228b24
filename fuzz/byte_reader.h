// Reads a fuzz input front to back: small fields that choose what a target does, then payload.
// Past the end every read gives zeros (or nothing), so any input is a whole, valid script.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>

namespace sctprelay::fuzz {

class ByteReader {
 public:
  ByteReader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  bool empty() const { return pos_ >= size_; }
  std::size_t left() const { return size_ - pos_; }

  uint8_t u8() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t u16() {  // little-endian
    uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  uint32_t u32() {
    uint32_t lo = u16();
    return lo | (uint32_t(u16()) << 16);
  }
  // Up to `n` bytes (fewer at the end), as a view into the input.
  std::span<const uint8_t> bytes(std::size_t n) {
    n = std::min(n, left());
    std::span<const uint8_t> out(data_ + pos_, n);
    pos_ += n;
    return out;
  }
  // Fills `out` (zeros past the end of the input).
  void fill(void* out, std::size_t n) {
    auto got = bytes(n);
    std::memset(out, 0, n);
    if (!got.empty()) std::memcpy(out, got.data(), got.size());
  }
  std::span<const uint8_t> rest() { return bytes(left()); }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// Stops the fuzzer with a message when an invariant does not hold (a finding, like a crash).
[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "invariant failed: %s\n", what);
  std::abort();
}
inline void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

}  // namespace sctprelay::fuzz
