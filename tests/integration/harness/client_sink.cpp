#include "harness/client_sink.h"

#include <stdexcept>

namespace harness {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string from_hex(const std::string& hex) {
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    int hi = hex_digit(hex[i]), lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) throw std::runtime_error("bad hex in client output");
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

}  // namespace

std::string json_field(const std::string& line, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  for (std::size_t at = line.find(needle); at != std::string::npos; at = line.find(needle, at + 1)) {
    // A key starts an object member; the same text inside a string value has its quotes escaped.
    if (at == 0 || (line[at - 1] != ',' && line[at - 1] != '{')) continue;
    std::size_t v = at + needle.size();
    if (v < line.size() && line[v] == '"') {
      std::size_t end = v + 1;
      while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
      return line.substr(v + 1, end - v - 1);
    }
    std::size_t end = line.find_first_of(",}", v);
    return line.substr(v, end == std::string::npos ? std::string::npos : end - v);
  }
  return "";
}

ClientSink::ClientSink(uint16_t port, std::vector<std::string> extra, const std::string& address) {
  std::vector<std::string> argv{CLIENT_BIN, "listen", "--json", "--hex", "--bind", address};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(std::to_string(port));
  // Message lines hold whole payloads in hex: echo only their start.
  proc_ = std::make_unique<Process>(argv, Process::Options{.echo = true, .echo_limit = 160});
  if (!proc_->wait_line("\"event\":\"listening\""))
    throw std::runtime_error("sctprelay-client listen on port " + std::to_string(port) + " did not start");
}

void ClientSink::parse_new_lines() {
  proc_->drain();
  const auto& lines = proc_->lines();
  for (; parsed_ < lines.size(); ++parsed_) {
    const std::string& l = lines[parsed_];
    std::string event = json_field(l, "event");
    if (event.empty()) continue;  // a diagnostic on stderr
    bool counted = false;
    for (auto& [name, n] : event_counts_)
      if (name == event) ++n, counted = true;
    if (!counted) event_counts_.emplace_back(event, 1);
    if (event != "message") continue;
    PrintedMessage m;
    m.assoc = static_cast<sctp_assoc_t>(std::stol(json_field(l, "assoc")));
    m.stream = static_cast<uint16_t>(std::stoul(json_field(l, "stream")));
    m.ppid = static_cast<uint32_t>(std::stoul(json_field(l, "ppid")));
    m.unordered = json_field(l, "unordered") == "true";
    m.size = std::stoul(json_field(l, "size"));
    m.data = from_hex(json_field(l, "data_hex"));
    messages_.push_back(std::move(m));
  }
}

const std::vector<PrintedMessage>& ClientSink::messages() {
  parse_new_lines();
  return messages_;
}

bool ClientSink::wait_messages(std::size_t n, Deadline d) {
  return wait_events("message", n, d);
}

std::size_t ClientSink::events(const std::string& event) {
  parse_new_lines();
  for (auto& [name, n] : event_counts_)
    if (name == event) return n;
  return 0;
}

bool ClientSink::wait_events(const std::string& event, std::size_t n, Deadline d) {
  const std::string needle = "\"event\":\"" + event + "\"";
  while (events(event) < n) {
    // Returns at the next such line (or when the process ends, or at the deadline).
    if (!proc_->wait_line(needle, d, parsed_)) return events(event) >= n;
  }
  return true;
}

}  // namespace harness
