#include "config/yaml_reader.h"

#include <algorithm>
#include <cctype>

#include "config/scalars.h"

namespace sctprelay::config {
namespace {

std::string quoted(std::string_view t) {
  std::string out(1, '"');
  out += t;
  out += '"';
  return out;
}

// Edit distance, for "did you mean" hints on misspelt keys.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// Text of a scalar for messages; long values are cut.
std::string scalar_for_message(const YAML::Node& n) {
  std::string s = n.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return quoted(s);
}

template <class T>
std::optional<T> report(Diagnostics& diag, const Field& f, const scalars::Parsed<T>& p) {
  if (scalars::ok(p)) return scalars::value(p);
  diag.error(f.where, f.path, scalars::error(p));
  return std::nullopt;
}

// The scalar text of a field, or an error naming what was expected.
std::optional<std::string> scalar_text(Diagnostics& diag, const Field& f, std::string_view expected) {
  if (f.value.IsScalar()) return f.value.Scalar();
  diag.error(f.where, f.path, "expected " + std::string(expected) + ", got " + describe(f.value));
  return std::nullopt;
}

}  // namespace

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return scalar_for_message(node);
    default: return "nothing";
  }
}

std::string join_choices(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

MapReader::MapReader(Diagnostics& diag, const Field& map, std::string_view what) : diag_(diag), self_(map) {
  if (!map.value.IsMap()) {
    diag_.error(map.where, map.path, "expected " + std::string(what) + " (a map of keys), got " + describe(map.value));
    return;
  }
  is_map_ = true;
  const std::string prefix = map.path.empty() ? "" : map.path + ".";
  // Copies, not references: yaml-cpp's map iterator yields its key/value pair by value (and
  // operator-> a temporary proxy holding it), so a reference to it->first would dangle.
  for (const auto& entry : map.value) {
    const YAML::Node key = entry.first;
    const YAML::Node value = entry.second;
    Position key_pos = diag_.at(key.Mark());
    if (!key.IsScalar()) {
      diag_.error(key_pos, map.path, "a key must be plain text, got " + describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    auto first = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == name; });
    if (first != entries_.end()) {
      diag_.error(key_pos, prefix + name,
                  "duplicate key " + quoted(name) + " (first given at line " + std::to_string(first->field.key_where.line) + ")");
      continue;
    }
    Field f;
    f.path = prefix + name;
    f.value = value;
    f.key_where = key_pos;
    f.where = value.IsNull() || value.Mark().is_null() ? key_pos : diag_.at(value.Mark());
    entries_.push_back(Entry{name, std::move(f)});
  }
}

bool MapReader::has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
}

std::optional<Field> MapReader::take(std::string_view key) {
  taken_.emplace_back(key);
  for (auto& e : entries_) {
    if (e.key == key) {
      e.taken = true;
      return e.field;
    }
  }
  return std::nullopt;
}

std::optional<Field> MapReader::require(std::string_view key) {
  auto f = take(key);
  if (!f && is_map_) diag_.error(self_.where, self_.path, "missing required key " + quoted(key));
  return f;
}

void MapReader::finish(std::initializer_list<std::string_view> allowed) {
  for (auto& e : entries_) {
    if (e.taken) continue;
    if (std::find(allowed.begin(), allowed.end(), e.key) != allowed.end()) continue;
    std::string_view best;
    size_t best_d = 3;  // hint only for close misspellings
    for (auto a : allowed) {
      size_t d = distance(e.key, a);
      if (d < best_d) {
        best_d = d;
        best = a;
      }
    }
    std::string msg = "unknown key " + quoted(e.key);
    if (!best.empty()) {
      msg += " (did you mean " + quoted(best) + "?)";
    } else {
      std::vector<std::string_view> names(allowed.begin(), allowed.end());
      msg += " (allowed: ";
      for (size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + std::string(names[i]);
      msg += ")";
    }
    diag_.error(e.field.key_where, e.field.path, msg);
  }
}

std::optional<std::string> read_text(Diagnostics& diag, const Field& f, std::string_view what) {
  auto t = scalar_text(diag, f, what);
  if (t && t->empty()) {
    diag.error(f.where, f.path, "expected " + std::string(what) + ", got an empty string");
    return std::nullopt;
  }
  return t;
}

std::optional<std::string> read_name(Diagnostics& diag, const Field& f) {
  auto t = scalar_text(diag, f, "a name");
  if (!t) return std::nullopt;
  auto good_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; };
  if (t->empty() || t->size() > 64 || !std::isalnum(static_cast<unsigned char>((*t)[0])) ||
      !std::all_of(t->begin(), t->end(), good_char)) {
    diag.error(f.where, f.path,
               "invalid name " + scalar_for_message(f.value) +
                   " (use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit)");
    return std::nullopt;
  }
  return t;
}

std::optional<uint64_t> read_uint(Diagnostics& diag, const Field& f, uint64_t min, uint64_t max) {
  auto t = scalar_text(diag, f, "a number " + std::to_string(min) + ".." + std::to_string(max));
  if (!t) return std::nullopt;
  return report(diag, f, scalars::parse_uint(*t, min, max));
}

std::optional<std::chrono::milliseconds> read_duration(Diagnostics& diag, const Field& f) {
  auto t = scalar_text(diag, f, "a duration such as 250ms or 5s");
  if (!t) return std::nullopt;
  return report(diag, f, scalars::parse_duration(*t));
}

std::optional<std::size_t> read_size(Diagnostics& diag, const Field& f) {
  auto t = scalar_text(diag, f, "a size such as 65536 or 64KiB");
  if (!t) return std::nullopt;
  return report(diag, f, scalars::parse_size(*t));
}

std::optional<std::string> read_address(Diagnostics& diag, const Field& f) {
  auto t = scalar_text(diag, f, "an IP address");
  if (!t) return std::nullopt;
  return report(diag, f, scalars::parse_address(*t));
}

std::vector<Field> read_list(Diagnostics& diag, const Field& f, std::string_view what, bool scalar_ok, bool empty_ok) {
  std::vector<Field> items;
  if (f.value.IsScalar() && scalar_ok) {
    items.push_back(f);
    return items;
  }
  if (!f.value.IsSequence()) {
    diag.error(f.where, f.path,
               "expected " + std::string(what) + (scalar_ok ? " (one value or a list)" : " (a list)") + ", got " + describe(f.value));
    return items;
  }
  if (f.value.size() == 0 && !empty_ok) {
    diag.error(f.where, f.path, "expected " + std::string(what) + ", got an empty list");
    return items;
  }
  size_t i = 0;
  for (const auto& element : f.value) {
    const YAML::Node item = element;  // a copy: the iterator yields temporaries
    Field it;
    it.path = f.path + "[" + std::to_string(i++) + "]";
    it.value = item;
    it.where = item.Mark().is_null() ? f.where : diag.at(item.Mark());
    it.key_where = it.where;
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace sctprelay::config
