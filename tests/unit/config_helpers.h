// What the configuration tests share: a text loaded as the file "t.yaml", with one leading newline
// dropped so that a raw string's first line is line 1; either its config (every error fails the
// test) or its errors, each the one line the daemon prints (t.yaml:LINE:COLUMN: ...).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"

namespace sctprelay::test {

using Lines = std::vector<std::string>;

inline config::LoadResult load_text(std::string text) {
  if (!text.empty() && text[0] == '\n') text.erase(0, 1);
  return config::load_string(text, "t.yaml");
}

inline config::Config load_ok(const std::string& text) {
  config::LoadResult r = load_text(text);
  for (auto& e : r.errors) ADD_FAILURE() << e.to_string();
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r.config : config::Config{};
}

inline Lines errors_of(const std::string& text) {
  config::LoadResult r = load_text(text);
  EXPECT_FALSE(r.ok()) << "expected errors, but the config loaded";
  EXPECT_FALSE(r.config.has_value());
  Lines out;
  for (auto& e : r.errors) out.push_back(e.to_string());
  return out;
}

// A file with one listener (`ran`, 127.0.0.1:36412) on lines 1-2, then `tail` from line 3 on.
inline std::string with_listener(const std::string& tail) {
  return "listeners:\n  - {name: ran, address: 127.0.0.1, port: 36412}\n" + tail;
}

}  // namespace sctprelay::test
