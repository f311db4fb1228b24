// Fuzz target: the configuration loader (lib/config) on any bytes, with the name a file would
// have. It must give a Config or errors with messages, never crash, hang (libFuzzer's -timeout)
// or take unbounded memory (-rss_limit_mb, -malloc_limit_mb).
#include <cstddef>
#include <cstdint>
#include <string>

#include "byte_reader.h"
#include "config/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using sctprelay::fuzz::check;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto result = sctprelay::config::load_string(text, "fuzz.yaml");
  check(result.ok() == result.errors.empty(), "a result is a Config or errors, never both or neither");
  for (const auto& e : result.errors) {
    check(!e.message.empty(), "every error says what is wrong");
    (void)e.to_string();
  }
  return 0;
}
