// Fuzz target: sctprelay-client's command line and payload parsing (tools/client), without a
// socket. Byte 0 picks the subcommand (bit 0: send or listen); the rest, split at NUL bytes, is its
// arguments, as main() hands them over. Then the rest is read as payload too: as lines of a
// message file, as a received message to verify, and as fields of an output record.
//
// Besides crashes and sanitizer reports it checks what the parsers promise: accepted options are
// consistent (a port, hosts, a stream range that an association can have, no contradicting
// options, a timeout the clock can hold, a rate the pacer keeps to), generated messages of the
// accepted size pass their own verification, lines come out without newlines and never empty, and
// JSON output is one line of valid JSON that escapes every control character.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../tools/client/options.h"
#include "../tools/client/output.h"
#include "../tools/client/pacer.h"
#include "../tools/client/payload.h"
#include "../tools/client/waiting.h"
#include "byte_reader.h"

namespace {

using sctprelay::fuzz::check;
namespace client = sctprelay::client;

std::vector<std::string> split_args(const uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string arg;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(arg);
      arg.clear();
    } else {
      arg += char(data[i]);
    }
  }
  if (size > 0) args.push_back(arg);
  return args;
}

bool no_control_bytes(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20) return false;
  return true;
}

// The generated messages a parsed `send --count` would send (a few, at most 4 KiB each).
void check_generated(const client::SendOptions& o) {
  check(o.stream_first <= o.stream_last, "the stream range is in order");
  check(o.stream_last < 65535, "the streams chosen exist on an association (ids up to 65534)");
  const uint64_t count = std::min<uint64_t>(o.count, 3);
  const std::size_t size = std::min<std::size_t>(o.size, 4096);
  client::GeneratedSource source(count, size, o.stream_first, o.stream_last);
  std::string msg;
  for (uint64_t i = 0; i < count; ++i) {
    check(source.next(msg), "a generated source gives --count messages");
    check(msg.size() == size, "a generated message has exactly --size bytes");
    const uint16_t stream = client::stream_for(i, o.stream_first, o.stream_last);
    check(stream >= o.stream_first && stream <= o.stream_last, "round-robin stays in the range");
    const std::string header = "seq=" + std::to_string(i) + " stream=" + std::to_string(stream) + " ";
    if (size >= header.size())
      check(client::is_generated_message(reinterpret_cast<const uint8_t*>(msg.data()), msg.size()),
            "a generated message with its whole header verifies");
  }
  check(!source.next(msg), "and no more");
}

void check_lines(const uint8_t* data, std::size_t size) {
  std::istringstream text(std::string(reinterpret_cast<const char*>(data), size));
  client::LineSource lines(text);
  std::string line;
  while (lines.next(line)) {
    check(!line.empty(), "no empty message from a line");
    check(line.find('\n') == std::string::npos, "a line holds no newline");
  }
}

void check_output(const uint8_t* data, std::size_t size) {
  sctprelay::sctp::MessageInfo info;
  info.stream = size > 0 ? data[0] : 0;
  info.unordered = size > 1 && (data[1] & 1);
  client::Record r("message");
  client::describe_message(r, info, data, size, size > 2 && (data[2] & 1));
  const std::string text(reinterpret_cast<const char*>(data), size);
  r.add("text", text).add("list", client::split_list(text));
  const std::string json = r.json();
  check(no_control_bytes(json), "JSON output escapes every control character");
  check(nlohmann::json::accept(json), "JSON output is valid JSON");
  (void)r.human();
  for (const auto& item : client::split_list(text))
    check(!item.empty() && item.find(',') == std::string::npos, "list items are non-empty, without commas");
}

// The first messages of a paced send: none before its slot, the first `burst` at once.
void check_pacer(const client::SendOptions& o) {
  using namespace std::chrono;
  const auto start = client::Clock::time_point(seconds(1));
  client::Pacer pacer(o.rate, o.burst, start);
  check(pacer.paced() == (o.rate > 0), "--rate paces");
  const uint64_t burst = pacer.burst();
  check(burst >= 1, "the bucket holds at least one message");
  auto now = start;
  for (uint64_t k = 0; k < 4; ++k) {
    const auto at = pacer.next(now);
    if (k < burst) check(at <= now, "the first --burst messages go at once");
    if (at > now) now = at;
    check(pacer.next(now) <= now, "at its time a message may go");
    pacer.sent(now);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::vector<std::string> args = split_args(data + 1, size - 1);
  if (data[0] & 1) {
    client::ListenOptions o;
    if (client::parse_listen(args, o).ok()) {
      check(!o.bind.empty(), "listen binds somewhere");
      (void)client::Deadline(o.timeout_s).at();
      check(o.streams >= 1 && o.max_size >= 1, "listen's counts are at least 1");
    }
  } else {
    client::SendOptions o;
    if (client::parse_send(args, o).ok()) {
      check(!o.hosts.empty() && o.port != 0, "send has a peer");
      check(!(o.count && !o.file.empty()), "--count and --file exclude each other");
      check(!o.verify || o.wait_replies > 0, "--verify comes with --wait-replies");
      check(o.size >= 1 && o.streams >= 1 && o.max_size >= 1, "send's sizes and counts are at least 1");
      check(o.timeout_s > 0, "the timeout is positive");
      check(o.rate >= 0 && o.rate <= 1e9, "the rate is one the pacer can keep");
      check(o.burst == 0 || o.rate > 0, "--burst comes with --rate");
      (void)client::Deadline(o.timeout_s).at();
      check_generated(o);
      check_pacer(o);
    }
  }
  // The same bytes as a payload.
  (void)client::is_generated_message(data + 1, size - 1);
  check_lines(data + 1, size - 1);
  check_output(data + 1, size - 1);
  return 0;
}
