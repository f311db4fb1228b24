// Output lines: each is a Record of key/value fields rendered either as one JSON object
// (nlohmann-json, fields in the order they were added) or as human-readable `key=value` words,
// printed and flushed at once so a parent process reads it live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sctp/socket.h"

namespace sctprelay::client {

class Record {
 public:
  // `event` is the JSON "event" field and the first human word (omitted there when !human_label).
  explicit Record(std::string event, bool human_label = true)
      : event_(std::move(event)), human_label_(human_label) {}
  Record& add(const std::string& key, const std::string& text);
  Record& add(const std::string& key, const char* text) { return add(key, std::string(text)); }
  Record& add(const std::string& key, uint64_t n);
  Record& add(const std::string& key, int64_t n);
  Record& add(const std::string& key, int n) { return add(key, int64_t(n)); }
  Record& add(const std::string& key, unsigned n) { return add(key, uint64_t(n)); }
  Record& add_bool(const std::string& key, bool b);
  Record& add(const std::string& key, const std::vector<std::string>& list);

  // Limits the last added field to one rendering.
  Record& json_only();
  Record& human_only();

  // One line, no newline. Bytes that are not UTF-8 come out as U+FFFD; control characters are
  // escaped.
  std::string json() const;
  std::string human() const;

 private:
  struct Field {
    std::string key;
    nlohmann::ordered_json json;
    std::string human;
    bool in_json = true, in_human = true;
  };
  std::string event_;
  bool human_label_;
  std::vector<Field> fields_;
};

// Prints the record as JSON or human text on stdout and flushes.
void emit(const Record& r, bool json);

// Adds the fields that describe a received message: stream, ppid, unordered/flags, size,
// sha256, data (printable and at most 256 bytes), data_hex (when `hex`).
void describe_message(Record& r, const sctp::MessageInfo& info, const uint8_t* data, std::size_t len,
                      bool hex);

std::vector<std::string> to_strings(const std::vector<sctp::Address>& addrs);

}  // namespace sctprelay::client
