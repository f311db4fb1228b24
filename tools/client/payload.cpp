// Generated payloads and message sources.
#include "payload.h"

#include <cstdio>
#include <cstring>

namespace sctprelay::client {

std::string generated_message(uint64_t seq, uint16_t stream, std::size_t size) {
  std::string out = "seq=" + std::to_string(seq) + " stream=" + std::to_string(stream) + " ";
  if (out.size() >= size) {
    out.resize(size);
    return out;
  }
  std::size_t header = out.size();
  out.resize(size);
  for (std::size_t i = header; i < size; ++i) out[i] = char('a' + (seq + i) % 26);
  return out;
}

bool is_generated_message(const uint8_t* data, std::size_t len) {
  // Header: "seq=<digits> stream=<digits> "
  std::string head(reinterpret_cast<const char*>(data), std::min<std::size_t>(len, 40));
  unsigned long long seq = 0;
  unsigned stream = 0;
  int consumed = 0;
  if (std::sscanf(head.c_str(), "seq=%llu stream=%u %n", &seq, &stream, &consumed) != 2 ||
      consumed == 0 || stream > 65535)
    return false;
  std::string expected = generated_message(seq, uint16_t(stream), len);
  return std::memcmp(expected.data(), data, len) == 0;
}

bool LineSource::next(std::string& out) {
  while (std::getline(in_, out)) {
    if (!out.empty() && out.back() == '\r') out.pop_back();
    if (!out.empty()) return true;  // SCTP carries no empty messages
  }
  return false;
}

bool GeneratedSource::next(std::string& out) {
  if (sent_ >= count_) return false;
  out = generated_message(sent_, stream_for(sent_, first_, last_), size_);
  ++sent_;
  return true;
}

}  // namespace sctprelay::client
