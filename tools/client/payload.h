// Test payloads: generated messages whose content can be checked on arrival, and the sources
// the send command reads messages from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <string>

namespace sctprelay::client {

// "seq=<n> stream=<s> " followed by letters a..z continuing from (seq + offset) % 26, cut or
// padded to exactly `size` bytes (a size below the header length cuts the header).
std::string generated_message(uint64_t seq, uint16_t stream, std::size_t size);

// True when `data` is exactly what generated_message() makes for the seq/stream in its header.
bool is_generated_message(const uint8_t* data, std::size_t len);

// Where the messages to send come from.
class MessageSource {
 public:
  virtual ~MessageSource() = default;
  // The next message, false at the end.
  virtual bool next(std::string& out) = 0;
};

// One message per non-empty line (without its newline) of a stream.
class LineSource : public MessageSource {
 public:
  explicit LineSource(std::istream& in) : in_(in) {}
  bool next(std::string& out) override;

 private:
  std::istream& in_;
};

// `count` generated messages; the stream for message i is first + i % (last - first + 1).
class GeneratedSource : public MessageSource {
 public:
  GeneratedSource(uint64_t count, std::size_t size, uint16_t first, uint16_t last)
      : count_(count), size_(size), first_(first), last_(last) {}
  bool next(std::string& out) override;

 private:
  uint64_t count_, sent_ = 0;
  std::size_t size_;
  uint16_t first_, last_;
};

// The stream message number `index` goes to, round-robin over first..last.
inline uint16_t stream_for(uint64_t index, uint16_t first, uint16_t last) {
  return static_cast<uint16_t>(first + index % (uint64_t(last) - first + 1));
}

}  // namespace sctprelay::client
