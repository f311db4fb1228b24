// Reading the daemon's answers without trusting their shape: an older or newer sctprelayd may lack
// a field or add some. Scalars that are missing or of another type read as nothing (shown as "-");
// a missing list or object an answer cannot do without is an AnswerError. Nothing here lets a
// nlohmann::json exception out.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sctprelay::ctl {

using nlohmann::json;

// The answer lacks what its command must have; what() says what is missing.
struct AnswerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// obj[key] when obj is an object that has key; otherwise a null value.
const json& member(const json& obj, const char* key);

std::optional<uint64_t> get_u64(const json& obj, const char* key);  // a non-negative integer
std::optional<int64_t> get_i64(const json& obj, const char* key);   // any integer that fits
std::optional<std::string> get_string(const json& obj, const char* key);
std::optional<bool> get_bool(const json& obj, const char* key);
// The strings of a list (other elements skipped); empty when it is not a list.
std::vector<std::string> get_strings(const json& obj, const char* key);

// answer[key] as a list / an object, or AnswerError naming it.
const json& require_list(const json& answer, const char* key);
const json& require_object(const json& answer, const char* key);

// For tables: the value as text, "-" when missing.
std::string text_or_dash(const json& obj, const char* key);
std::string count_or_dash(const json& obj, const char* key);

}  // namespace sctprelay::ctl
