// Command-line options of the two subcommands and their parser (CLI11).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sctprelay::client {

// --progress / --no-progress; Auto: send shows progress when stderr is a terminal, listen does not.
enum class ProgressMode { Auto, On, Off };

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
  double timeout_s = 10;           // --timeout: the whole run, less the time --rate holds messages back
  bool json = false;
  bool hex = false;
  bool verify = false;             // replies must be copies of sent messages
  uint16_t streams = 16;           // --init-streams: INITMSG stream counts (raised to cover --streams)
  std::size_t max_size = 16u << 20;
  double rate = 0;                 // --rate: messages per second (0: as fast as the association takes them)
  uint64_t burst = 0;              // --burst: messages that may go back to back (0: default_burst(rate))
  ProgressMode progress = ProgressMode::Auto;
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
  ProgressMode progress = ProgressMode::Auto;
};

enum class Command { None, Send, Listen };

struct ParseResult {
  enum class Status {
    Run,         // the options are filled in: run `command`
    Help,        // help was asked for: `text` is it (for stdout, exit status 0)
    UsageError,  // `text` is the one-line reason (for stderr, with usage_hint(command))
  };
  Status status = Status::Run;
  Command command = Command::None;
  std::string text;
  bool ok() const { return status == Status::Run; }
};

// The whole command line after the program name: `send ...`, `listen ...`, `help [COMMAND]` or
// `--help`. Fills in `send` or `listen`, whichever the command is.
ParseResult parse_command_line(const std::vector<std::string>& args, SendOptions& send, ListenOptions& listen);
// One subcommand's arguments, after its name.
ParseResult parse_send(const std::vector<std::string>& args, SendOptions& out);
ParseResult parse_listen(const std::vector<std::string>& args, ListenOptions& out);

// The usage line(s) to print after a usage error of `command` (None: both commands).
std::string usage_hint(Command command);

// "a,b,c" -> {"a","b","c"}
std::vector<std::string> split_list(const std::string& text);

}  // namespace sctprelay::client
