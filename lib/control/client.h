// The client side of the control socket (docs/control.md): connect to the unix socket, write one
// request line, read the one answer line within a deadline. Errors are sentences that say what to
// do, for people at a terminal (sctprelayctl prints them as they are).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace sctprelay::control {

// A reload is checked in a child that may take 30 s, and applied after that: 60 s covers it.
inline constexpr std::chrono::milliseconds kDefaultAnswerTimeout{60000};
// Where the daemon listens unless control.socket says otherwise (systemd's RuntimeDirectory).
inline constexpr const char* kDefaultSocketPath = "/run/sctprelayd/control.sock";
// The most an answer line may hold (assocs with many associations is the longest).
inline constexpr std::size_t kMaxAnswerBytes = 256u * 1024u * 1024u;

struct CallResult {
  enum class Failure {
    None,
    Connect,     // no socket, no permission, nobody listening, path too long
    Io,          // writing the request or reading the answer failed
    Timeout,     // no complete answer within the deadline
    BadAnswer,   // the answer is not one JSON object on one line
  };
  Failure failure = Failure::None;
  int error_number = 0;        // errno for Connect and Io
  std::string error;           // what went wrong and what to do (when failure != None)
  nlohmann::json answer;       // the daemon's answer (an object) when failure == None

  bool ok() const { return failure == Failure::None; }
};

// One request, one answer. `request` is written as one line; the deadline covers connecting,
// writing and reading. Never throws.
CallResult call(const std::string& socket_path, const nlohmann::json& request,
                std::chrono::milliseconds timeout = kDefaultAnswerTimeout);

// The sentence for a failed connect(2) to `path` with errno `err`. `socket_group` is the group
// that owns the socket file (for EACCES: who may use it); empty when it cannot be read.
std::string connect_error_message(const std::string& path, int err, const std::string& socket_group);

// The name of the group owning `path` (stat(2), then getgrgid), its number when it has no name,
// empty when the file cannot be read.
std::string socket_group_name(const std::string& path);

// The default socket: $RUNTIME_DIRECTORY/control.sock when systemd set RUNTIME_DIRECTORY (the
// first of its colon-separated directories), else kDefaultSocketPath.
std::string default_socket_path();

}  // namespace sctprelay::control
