#include "control/client.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "util/unique_fd.h"

namespace sctprelay::control {

using Clock = std::chrono::steady_clock;
using Failure = CallResult::Failure;

namespace {

// "60 s", "0.5 s", "1.25 s".
std::string seconds_text(std::chrono::milliseconds d) {
  char buf[32];
  const auto ms = d.count();
  if (ms % 1000 == 0)
    std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(ms / 1000));
  else
    std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ms) / 1000.0);
  return buf;
}

CallResult failed(Failure f, std::string text, int err = 0) {
  CallResult r;
  r.failure = f;
  r.error = std::move(text);
  r.error_number = err;
  return r;
}

// Milliseconds left until `deadline` for poll(2): at least 0, at most INT_MAX.
int poll_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  if (left > 0x7fffffff) return 0x7fffffff;
  return static_cast<int>(left);
}

// Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error (errno set).
int wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ms = poll_ms(deadline);
    int n = ::poll(&p, 1, ms);
    if (n > 0) return 1;
    if (n == 0) {
      if (Clock::now() >= deadline) return 0;
      continue;
    }
    if (errno != EINTR) return -1;
  }
}

std::string no_answer_hint() { return " (see the daemon's log: journalctl -u sctprelayd)"; }

}  // namespace

std::string connect_error_message(const std::string& path, int err, const std::string& socket_group) {
  switch (err) {
    case ENOENT:
      return "no control socket at " + path +
             ": is sctprelayd running (systemctl status sctprelayd)? is control.socket set?";
    case EACCES:
    case EPERM:
      return "permission denied on " + path + ": run as root or as a member of the socket's group (" +
             (socket_group.empty() ? std::string("its group could not be read") : socket_group) + ")";
    case ECONNREFUSED: return "nothing listens on " + path + " (stale socket: the daemon is not running)";
    case ENOTDIR: return "no control socket at " + path + ": a part of the path is not a directory";
    case EAGAIN:
      return "sctprelayd does not take connections on " + path +
             " (its queue of waiting connections is full: it may be stuck" + no_answer_hint() + ")";
    default: return "cannot connect to " + path + ": " + std::strerror(err);
  }
}

std::string socket_group_name(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  long size = ::sysconf(_SC_GETGR_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<std::size_t>(size) : 16384u);
  for (;;) {
    group gr{};
    group* found = nullptr;
    int rc = ::getgrgid_r(st.st_gid, &gr, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc == 0 && found != nullptr && found->gr_name != nullptr) return found->gr_name;
    return "gid " + std::to_string(st.st_gid);
  }
}

std::string default_socket_path() {
  const char* env = std::getenv("RUNTIME_DIRECTORY");
  if (env != nullptr) {
    std::string dirs = env;
    std::string first = dirs.substr(0, dirs.find(':'));
    if (!first.empty()) {
      if (first.back() != '/') first += '/';
      return first + "control.sock";
    }
  }
  return kDefaultSocketPath;
}

CallResult call(const std::string& path, const nlohmann::json& request, std::chrono::milliseconds timeout) {
  try {
    const auto deadline = Clock::now() + timeout;

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty()) return failed(Failure::Connect, "no control socket path given", EINVAL);
    if (path.size() >= sizeof addr.sun_path)
      return failed(Failure::Connect,
                    "the socket path " + path + " is " + std::to_string(path.size()) +
                        " bytes; a unix socket path may be at most " + std::to_string(sizeof addr.sun_path - 1),
                    ENAMETOOLONG);
    std::memcpy(addr.sun_path, path.data(), path.size());

    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
      return failed(Failure::Connect, std::string("cannot create a unix socket: ") + std::strerror(errno), errno);

    // A blocking connect, bounded by SO_SNDTIMEO: a unix socket's connect waits only while the
    // listener's backlog is full, and gives EAGAIN when the timeout runs out.
    const auto left = std::chrono::milliseconds(std::max(poll_ms(deadline), 1));
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(left.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((left.count() % 1000) * 1000);
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    for (;;) {
      if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) break;
      const int err = errno;
      if (err == EINTR && Clock::now() < deadline) continue;
      if (err == EISCONN) break;  // an interrupted connect that went through meanwhile
      const std::string group = (err == EACCES || err == EPERM) ? socket_group_name(path) : std::string();
      return failed(err == EAGAIN ? Failure::Timeout : Failure::Connect, connect_error_message(path, err, group), err);
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
      return failed(Failure::Io, std::string("cannot set the socket non-blocking: ") + std::strerror(errno), errno);

    const std::string timeout_text = "no answer from sctprelayd on " + path + " within " + seconds_text(timeout) +
                                     " (it may be busy or stuck" + no_answer_hint() + "; --timeout sets a longer wait)";

    // The request: one line. If the daemon closes early (it refused the request) its answer may
    // still be there to read, so a failed write goes on to reading.
    // Invalid UTF-8 (a name typed in another encoding) is replaced, never thrown on.
    const std::string line = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::size_t sent = 0;
    int write_error = 0;
    while (sent < line.size()) {
      ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        int w = wait_for(fd.get(), POLLOUT, deadline);
        if (w == 0) return failed(Failure::Timeout, timeout_text, ETIMEDOUT);
        if (w < 0) return failed(Failure::Io, std::string("poll: ") + std::strerror(errno), errno);
        continue;
      }
      write_error = errno;
      break;
    }

    // The answer: everything up to the first newline (or to the end, if the daemon closes first).
    std::string answer;
    char buf[65536];
    bool complete = false;
    while (!complete) {
      ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
      if (n > 0) {
        const char* nl = static_cast<const char*>(std::memchr(buf, '\n', static_cast<std::size_t>(n)));
        answer.append(buf, nl ? static_cast<std::size_t>(nl - buf) : static_cast<std::size_t>(n));
        if (nl) complete = true;
        if (answer.size() > kMaxAnswerBytes)
          return failed(Failure::BadAnswer,
                        "the daemon's answer is longer than " + std::to_string(kMaxAnswerBytes >> 20) + " MiB",
                        EMSGSIZE);
        continue;
      }
      if (n == 0) break;  // closed
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        int w = wait_for(fd.get(), POLLIN, deadline);
        if (w == 0) return failed(Failure::Timeout, timeout_text, ETIMEDOUT);
        if (w < 0) return failed(Failure::Io, std::string("poll: ") + std::strerror(errno), errno);
        continue;
      }
      if (errno == ECONNRESET && !answer.empty()) break;
      const int err = errno;
      return failed(Failure::Io, "reading the answer from " + path + ": " + std::strerror(err), err);
    }
    if (answer.empty()) {
      if (write_error != 0)
        return failed(Failure::Io, "sending the request to " + path + ": " + std::strerror(write_error), write_error);
      return failed(Failure::Io,
                    "sctprelayd closed the connection on " + path + " without answering" + no_answer_hint(),
                    ECONNRESET);
    }

    auto parsed = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      std::string shown = answer.size() > 80 ? answer.substr(0, 77) + "..." : answer;
      return failed(Failure::BadAnswer, "the answer on " + path + " is not a JSON object: " + shown +
                                            " (is this sctprelayd's control socket?)");
    }
    CallResult r;
    r.answer = std::move(parsed);
    return r;
  } catch (const std::exception& e) {
    return failed(Failure::Io, std::string("control request failed: ") + e.what());
  }
}

}  // namespace sctprelay::control
