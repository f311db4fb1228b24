// Config templates for tests: "{P0}".."{P9}" stand for the test's ports (base + 0..9).
#pragma once

#include <cstdint>
#include <string>

namespace harness {

inline std::string with_ports(std::string text, uint16_t base) {
  for (int i = 9; i >= 0; --i) {
    std::string key = "{P" + std::to_string(i) + "}";
    for (std::size_t pos; (pos = text.find(key)) != std::string::npos;)
      text.replace(pos, key.size(), std::to_string(base + i));
  }
  return text;
}

}  // namespace harness
