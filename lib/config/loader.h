// Reads a YAML file into a validated Config, collecting every problem with its position.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sctprelay::config {

struct ConfigError {
  Position where;    // file, 1-based line and column of the offending node (parent map for a missing key)
  std::string path;  // e.g. "routes[2].to"
  std::string message;
  // "file:line:column: path: message" (line/column omitted when unknown)
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set only when errors is empty
  std::vector<ConfigError> errors;
  bool ok() const { return config.has_value(); }
};

// In this process, without bounds; the daemon and --check use load_file_bounded() (bounded_load.h).
LoadResult load_file(const std::string& path);
// `name` stands for the file name in positions.
LoadResult load_string(const std::string& yaml_text, const std::string& name);

}  // namespace sctprelay::config
