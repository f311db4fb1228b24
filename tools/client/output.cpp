// Rendering of output records.
#include "output.h"

#include <cstdio>

#include "sha256.h"

namespace sctprelay::client {
namespace {

bool printable(const uint8_t* data, std::size_t len) {
  for (std::size_t i = 0; i < len; ++i)
    if (data[i] < 0x20 || data[i] > 0x7e) return false;
  return true;
}

// `"text"`, escaped; built by appending (GCC 12 -O3 warns falsely, -Wrestrict, about `"\"" + s`).
std::string json_string(const std::string& s) {
  std::string out(1, '"');
  out += json_escape(s);
  out += '"';
  return out;
}

std::string quoted_if_needed(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \"=") == std::string::npos) return s;
  return json_string(s);
}

}  // namespace

std::string json_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  return out;
}

Record& Record::add(const std::string& key, const std::string& text) {
  fields_.push_back({key, json_string(text), quoted_if_needed(text)});
  return *this;
}

Record& Record::add(const std::string& key, uint64_t n) {
  fields_.push_back({key, std::to_string(n), std::to_string(n)});
  return *this;
}

Record& Record::add(const std::string& key, int64_t n) {
  fields_.push_back({key, std::to_string(n), std::to_string(n)});
  return *this;
}

Record& Record::add_bool(const std::string& key, bool b) {
  fields_.push_back({key, b ? "true" : "false", b ? "yes" : "no"});
  return *this;
}

Record& Record::add(const std::string& key, const std::vector<std::string>& list) {
  std::string json = "[", human;
  for (std::size_t i = 0; i < list.size(); ++i) {
    json += (i ? ",\"" : "\"") + json_escape(list[i]) + "\"";
    human += (i ? "," : "") + list[i];
  }
  fields_.push_back({key, json + "]", human});
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
  std::string out = "{\"event\":\"" + json_escape(event_) + "\"";
  for (const auto& f : fields_)
    if (f.in_json) out += ",\"" + f.key + "\":" + f.json;
  return out + "}";
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
