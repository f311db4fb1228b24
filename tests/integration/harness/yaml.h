// Config templates for tests: "{P0}".."{P9}" stand for the test's ports (base + 0..9).
#pragma once

#include <cstdint>
#include <string>

namespace harness {

// The simplest relay: listener `in` on P0, destination `out` on P1, every message from one to the other.
inline constexpr const char* kInToOut = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)";

inline std::string with_ports(std::string text, uint16_t base) {
  for (int i = 9; i >= 0; --i) {
    std::string key = "{P" + std::to_string(i) + "}";
    for (std::size_t pos; (pos = text.find(key)) != std::string::npos;)
      text.replace(pos, key.size(), std::to_string(base + i));
  }
  return text;
}

}  // namespace harness
