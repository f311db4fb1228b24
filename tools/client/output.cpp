// Rendering of output records.
#include "output.h"

#include <cstdio>

#include "digest.h"

namespace sctprelay::client {
namespace {

using Json = nlohmann::ordered_json;

bool printable(const uint8_t* data, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i)
    if (data[i] < 0x20 || data[i] > 0x7e) return false;
  return true;
}

// Compact, and invalid UTF-8 replaced rather than thrown at: payload text is whatever arrived.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A word as it is when it needs no quotes, else as a JSON string.
std::string quoted_if_needed(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \"=") == std::string::npos) return s;
  return dump(Json(s));
}

}  // namespace

Record& Record::add(const std::string& key, const std::string& text) {
  fields_.push_back({key, Json(text), quoted_if_needed(text)});
  return *this;
}

Record& Record::add(const std::string& key, uint64_t n) {
  fields_.push_back({key, Json(n), std::to_string(n)});
  return *this;
}

Record& Record::add(const std::string& key, int64_t n) {
  fields_.push_back({key, Json(n), std::to_string(n)});
  return *this;
}

Record& Record::add_bool(const std::string& key, bool b) {
  fields_.push_back({key, Json(b), b ? "yes" : "no"});
  return *this;
}

Record& Record::add(const std::string& key, const std::vector<std::string>& list) {
  std::string human;
  for (std::size_t i = 0; i < list.size(); ++i) human += (i ? "," : "") + list[i];
  fields_.push_back({key, Json(list), human});
  return *this;
}

Record& Record::json_only() {
  if (!fields_.empty()) fields_.back().in_human = false;
  return *this;
}

Record& Record::human_only() {
  if (!fields_.empty()) fields_.back().in_json = false;
  return *this;
}

std::string Record::json() const {
  Json j = Json::object();
  j["event"] = event_;
  for (const auto& f : fields_)
    if (f.in_json) j[f.key] = f.json;
  return dump(j);
}

std::string Record::human() const {
  std::string out = human_label_ ? event_ : std::string();
  for (const auto& f : fields_) {
    if (!f.in_human) continue;
    if (!out.empty()) out += ' ';
    out += f.key + "=" + f.human;
  }
  return out;
}

void emit(const Record& r, bool json) {
  std::string line = json ? r.json() : r.human();
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void describe_message(Record& r, const sctp::MessageInfo& info, const uint8_t* data, std::size_t len,
                      bool hex) {
  r.add("stream", unsigned(info.stream)).add("ppid", uint64_t(info.ppid));
  // JSON readers get a boolean, people the flag word.
  r.add_bool("unordered", info.unordered).json_only();
  r.add("flags", info.unordered ? "unordered" : "ordered").human_only();
  r.add("size", uint64_t(len)).add("sha256", sha256_hex(data, len));
  if (len <= 256 && printable(data, len))
    r.add("data", std::string(reinterpret_cast<const char*>(data), len));
  if (hex) {
    static const char* digits = "0123456789abcdef";
    std::string h;
    h.reserve(len * 2);
    for (std::size_t i = 0; i < len; ++i) {
      h += digits[data[i] >> 4];
      h += digits[data[i] & 15];
    }
    r.add("data_hex", h);
  }
}

std::vector<std::string> to_strings(const std::vector<sctp::Address>& addrs) {
  std::vector<std::string> out;
  for (const auto& a : addrs) out.push_back(a.to_string());
  return out;
}

}  // namespace sctprelay::client
