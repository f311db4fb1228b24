#include "ctl/json_view.h"

#include <limits>

namespace sctprelay::ctl {

const json& member(const json& obj, const char* key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::optional<uint64_t> get_u64(const json& obj, const char* key) {
  const json& v = member(obj, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    auto n = v.get<int64_t>();
    if (n >= 0) return static_cast<uint64_t>(n);
  }
  return std::nullopt;
}

std::optional<int64_t> get_i64(const json& obj, const char* key) {
  const json& v = member(obj, key);
  if (v.is_number_unsigned()) {
    auto n = v.get<uint64_t>();
    if (n <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(n);
    return std::nullopt;
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return std::nullopt;
}

std::optional<std::string> get_string(const json& obj, const char* key) {
  const json& v = member(obj, key);
  if (v.is_string()) return v.get<std::string>();
  return std::nullopt;
}

std::optional<bool> get_bool(const json& obj, const char* key) {
  const json& v = member(obj, key);
  if (v.is_boolean()) return v.get<bool>();
  return std::nullopt;
}

std::vector<std::string> get_strings(const json& obj, const char* key) {
  std::vector<std::string> out;
  const json& v = member(obj, key);
  if (!v.is_array()) return out;
  for (const auto& e : v)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

const json& require_list(const json& answer, const char* key) {
  const json& v = member(answer, key);
  if (!v.is_array()) throw AnswerError(std::string("the answer has no \"") + key + "\" list");
  return v;
}

const json& require_object(const json& answer, const char* key) {
  const json& v = member(answer, key);
  if (!v.is_object()) throw AnswerError(std::string("the answer has no \"") + key + "\" object");
  return v;
}

std::string text_or_dash(const json& obj, const char* key) {
  auto s = get_string(obj, key);
  return s && !s->empty() ? *s : "-";
}

std::string count_or_dash(const json& obj, const char* key) {
  if (auto n = get_u64(obj, key)) return std::to_string(*n);
  if (auto n = get_i64(obj, key)) return std::to_string(*n);
  return "-";
}

}  // namespace sctprelay::ctl
