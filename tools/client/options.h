// Command-line options of the two subcommands and their parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sctprelay::client {

struct SendOptions {
  std::vector<std::string> hosts;  // peer addresses (multi-homed peer: several)
  uint16_t port = 0;
  std::vector<std::string> local;  // --local: addresses to bind before connecting
  uint16_t stream = 0;             // --stream
  uint16_t stream_first = 0;       // --streams A-B (round-robin); when unset both equal `stream`
  uint16_t stream_last = 0;
  uint32_t ppid = 0;
  bool unordered = false;
  std::string file;                // --file: lines of a file instead of stdin
  uint64_t count = 0;              // --count: generated messages (0: read lines)
  std::size_t size = 100;          // --size: bytes per generated message
  uint64_t wait_replies = 0;       // --wait-replies
  double timeout_s = 10;           // --timeout: the whole run
  bool json = false;
  bool hex = false;
  bool verify = false;             // replies must be copies of sent messages
  uint16_t streams = 16;           // --init-streams: INITMSG stream counts (raised to cover --streams)
  std::size_t max_size = 16u << 20;
};

struct ListenOptions {
  uint16_t port = 0;
  std::vector<std::string> bind = {"0.0.0.0"};
  uint64_t count = 0;              // 0: run until a signal (or --timeout)
  double timeout_s = 0;            // 0: none
  bool echo = false;
  bool json = false;
  bool hex = false;
  bool verify = false;             // messages must be generated ones (send --count)
  uint16_t streams = 16;           // --streams: INITMSG in/out stream counts
  std::size_t max_size = 16u << 20;
};

// Each returns an empty string on success, else the message for a usage error.
std::string parse_send(const std::vector<std::string>& args, SendOptions& out);
std::string parse_listen(const std::vector<std::string>& args, ListenOptions& out);

// "a,b,c" -> {"a","b","c"}
std::vector<std::string> split_list(const std::string& text);

}  // namespace sctprelay::client
