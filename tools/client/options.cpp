// Option parsing: `--name VALUE`, `--name=VALUE` or a bare `--flag`, anywhere among the
// positional arguments.
#include "options.h"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>

namespace sctprelay::client {
namespace {

struct Spec {
  bool takes_value;
  std::function<bool(const std::string&)> apply;  // false: bad value
};

bool to_uint(const std::string& text, uint64_t max, uint64_t& out) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > max) return false;
  out = v;
  return true;
}

template <typename T>
std::function<bool(const std::string&)> number(T& field, uint64_t min = 0,
                                               uint64_t max = std::numeric_limits<T>::max()) {
  return [&field, min, max](const std::string& v) {
    uint64_t n = 0;
    if (!to_uint(v, max, n) || n < min) return false;
    field = static_cast<T>(n);
    return true;
  };
}

// Up to 10^9 s (31 years): a deadline further away would not fit in the clock's nanoseconds.
constexpr double kMaxSeconds = 1e9;

std::function<bool(const std::string&)> seconds(double& field) {
  return [&field](const std::string& v) {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !(d > 0) || !(d <= kMaxSeconds)) return false;
    field = d;
    return true;
  };
}

std::function<bool(const std::string&)> flag(bool& field) {
  return [&field](const std::string&) { return field = true; };
}

// Splits args into options (applied through `specs`) and positionals.
std::string parse(const std::vector<std::string>& args, const std::map<std::string, Spec>& specs,
                  std::vector<std::string>& positional) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    auto it = specs.find(name);
    if (it == specs.end()) return "unknown option --" + name;
    if (it->second.takes_value && !has_value) {
      if (i + 1 >= args.size()) return "option --" + name + " needs a value";
      value = args[++i];
    } else if (!it->second.takes_value && has_value) {
      return "option --" + name + " takes no value";
    }
    if (!it->second.apply(value)) return "bad value '" + value + "' for --" + name;
  }
  return {};
}

bool port_of(const std::string& text, uint16_t& port) {
  uint64_t n = 0;
  if (!to_uint(text, 65535, n)) return false;
  port = static_cast<uint16_t>(n);
  return true;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string parse_send(const std::vector<std::string>& args, SendOptions& o) {
  bool range_set = false;
  std::map<std::string, Spec> specs = {
      // Stream ids go up to 65534: an association has at most 65535 streams.
      {"stream", {true, number(o.stream, 0, 65534)}},
      {"streams", {true,
                   [&](const std::string& v) {
                     auto dash = v.find('-');
                     uint64_t a = 0, b = 0;
                     if (dash == std::string::npos || !to_uint(v.substr(0, dash), 65534, a) ||
                         !to_uint(v.substr(dash + 1), 65534, b) || a > b)
                       return false;
                     o.stream_first = uint16_t(a);
                     o.stream_last = uint16_t(b);
                     return range_set = true;
                   }}},
      {"ppid", {true, number(o.ppid)}},
      {"unordered", {false, flag(o.unordered)}},
      {"file", {true, [&](const std::string& v) { o.file = v; return !v.empty(); }}},
      {"count", {true, number(o.count, 1)}},
      {"size", {true, number(o.size, 1, 256u << 20)}},
      {"wait-replies", {true, number(o.wait_replies, 1)}},
      {"timeout", {true, seconds(o.timeout_s)}},
      {"json", {false, flag(o.json)}},
      {"hex", {false, flag(o.hex)}},
      {"verify", {false, flag(o.verify)}},
      {"local", {true, [&](const std::string& v) { o.local = split_list(v); return !o.local.empty(); }}},
      {"init-streams", {true, number(o.streams, 1, 65535)}},
      {"max-size", {true, number(o.max_size, 1)}},
  };
  std::vector<std::string> positional;
  if (auto err = parse(args, specs, positional); !err.empty()) return err;
  if (positional.size() != 2) return "send needs HOST[,HOST...] and PORT";
  o.hosts = split_list(positional[0]);
  if (o.hosts.empty()) return "no host given";
  if (!port_of(positional[1], o.port) || o.port == 0) return "bad port '" + positional[1] + "'";
  if (!range_set) o.stream_first = o.stream_last = o.stream;
  if (o.count && !o.file.empty()) return "--count and --file exclude each other";
  if (o.verify && o.wait_replies == 0) return "--verify needs --wait-replies";
  return {};
}

std::string parse_listen(const std::vector<std::string>& args, ListenOptions& o) {
  std::map<std::string, Spec> specs = {
      {"bind", {true, [&](const std::string& v) { o.bind = split_list(v); return !o.bind.empty(); }}},
      {"count", {true, number(o.count, 1)}},
      {"timeout", {true, seconds(o.timeout_s)}},
      {"echo", {false, flag(o.echo)}},
      {"json", {false, flag(o.json)}},
      {"hex", {false, flag(o.hex)}},
      {"verify", {false, flag(o.verify)}},
      {"streams", {true, number(o.streams, 1, 65535)}},
      {"max-size", {true, number(o.max_size, 1)}},
  };
  std::vector<std::string> positional;
  if (auto err = parse(args, specs, positional); !err.empty()) return err;
  if (positional.size() != 1) return "listen needs PORT";
  if (!port_of(positional[0], o.port)) return "bad port '" + positional[0] + "'";
  return {};
}

}  // namespace sctprelay::client
