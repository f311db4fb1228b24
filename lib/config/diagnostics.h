// Collects config problems with their positions, so a load reports all of them at once.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/mark.h>

#include "config/loader.h"

namespace sctprelay::config {

class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // yaml-cpp marks are 0-based; positions are 1-based. A null mark gives line 0 (unknown).
  Position at(const YAML::Mark& mark) const;

  void error(const Position& where, std::string path, std::string message);
  bool has_errors() const { return !errors_.empty(); }
  // Errors in file order (line, column), ties kept in the order found.
  std::vector<ConfigError> take_sorted();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

}  // namespace sctprelay::config
