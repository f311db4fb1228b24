// Typed, position-aware reading of YAML nodes. Every read either yields a value or records an
// error at the offending node (or, for a missing key, at the map that lacks it) and yields nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/diagnostics.h"

namespace sctprelay::config {

// One value in the document with the path that names it, e.g. "routes[2].to".
struct Field {
  std::string path;
  YAML::Node value;
  Position where;  // the value; the key instead when the value is empty (it has no place of its own)
  Position key_where;  // the key, for map entries; equal to `where` for list items
};

// "a map", "a list", "nothing", or the quoted scalar text: for "expected X, got Y" messages.
std::string describe(const YAML::Node& node);

// Reads one YAML map: reports duplicate and non-text keys at once, unknown keys in finish().
class MapReader {
 public:
  // `what` names the map in a type error, e.g. "a listener".
  MapReader(Diagnostics& diag, const Field& map, std::string_view what);

  bool is_map() const { return is_map_; }
  const Field& self() const { return self_; }
  bool has(std::string_view key) const;
  // The entry for `key` (first one if duplicated), marking it as known; nullopt when absent.
  std::optional<Field> take(std::string_view key);
  // Like take(), and reports `missing required key "key"` at the map's position when absent.
  std::optional<Field> require(std::string_view key);
  // Reports every key that was never taken, with a "did you mean" hint among `allowed`.
  void finish(std::initializer_list<std::string_view> allowed);

 private:
  struct Entry {
    std::string key;
    Field field;
    bool taken = false;
  };
  Diagnostics& diag_;
  Field self_;
  bool is_map_ = false;
  std::vector<Entry> entries_;
  std::vector<std::string> taken_;
};

// Scalar readers. Each records its own error and returns nullopt on failure.
// Non-empty text; `what` names it in a type error ("expected a name, got a list").
std::optional<std::string> read_text(Diagnostics& diag, const Field& f, std::string_view what = "a text value");
// A relay object name: letters, digits, '-', '_', '.'; starts with a letter or digit; <= 64 chars.
std::optional<std::string> read_name(Diagnostics& diag, const Field& f);
std::optional<uint64_t> read_uint(Diagnostics& diag, const Field& f, uint64_t min, uint64_t max);
std::optional<std::chrono::milliseconds> read_duration(Diagnostics& diag, const Field& f);
std::optional<std::size_t> read_size(Diagnostics& diag, const Field& f);
std::optional<std::string> read_address(Diagnostics& diag, const Field& f);

template <class E>
using Choices = std::initializer_list<std::pair<std::string_view, E>>;

std::string join_choices(const std::vector<std::string_view>& names);

template <class E>
std::optional<E> read_choice(Diagnostics& diag, const Field& f, Choices<E> choices) {
  std::vector<std::string_view> names;
  for (auto& choice : choices) names.push_back(choice.first);
  auto text = read_text(diag, f, "one of: " + join_choices(names));
  if (!text) return std::nullopt;
  for (auto& [name, value] : choices)
    if (*text == name) return value;
  diag.error(f.where, f.path, "\"" + *text + "\" is not one of: " + join_choices(names));
  return std::nullopt;
}

// The items of a list as fields "path[i]". A single scalar counts as a one-item list when
// `scalar_ok`. An empty list is reported unless `empty_ok`.
std::vector<Field> read_list(Diagnostics& diag, const Field& f, std::string_view what, bool scalar_ok,
                             bool empty_ok = false);

}  // namespace sctprelay::config
