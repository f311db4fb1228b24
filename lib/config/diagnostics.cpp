#include "config/diagnostics.h"

#include <algorithm>

namespace sctprelay::config {

std::string ConfigError::to_string() const {
  std::string out = where.file;
  if (where.line > 0) {
    out += ':';
    out += std::to_string(where.line);
    if (where.column > 0) {
      out += ':';
      out += std::to_string(where.column);
    }
  }
  if (!out.empty()) out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

Position Diagnostics::at(const YAML::Mark& mark) const {
  Position p;
  p.file = file_;
  if (!mark.is_null()) {
    p.line = mark.line + 1;
    p.column = mark.column + 1;
  }
  return p;
}

void Diagnostics::error(const Position& where, std::string path, std::string message) {
  errors_.push_back(ConfigError{where, std::move(path), std::move(message)});
}

std::vector<ConfigError> Diagnostics::take_sorted() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const ConfigError& a, const ConfigError& b) {
    // Unknown positions (line 0) go last: they are whole-file remarks.
    int la = a.where.line > 0 ? a.where.line : INT32_MAX;
    int lb = b.where.line > 0 ? b.where.line : INT32_MAX;
    if (la != lb) return la < lb;
    return a.where.column < b.where.column;
  });
  return std::move(errors_);
}

}  // namespace sctprelay::config
