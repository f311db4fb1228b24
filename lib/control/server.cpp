#include "control/server.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/log.h"

namespace sctprelay::control {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

bool make_address(const std::string& path, sockaddr_un& sun, std::string& error) {
  sun = {};
  sun.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof sun.sun_path) {
    error = "control socket path '" + path + "' must be 1 to " + std::to_string(sizeof sun.sun_path - 1) + " bytes";
    return false;
  }
  std::memcpy(sun.sun_path, path.data(), path.size());
  return true;
}

// A socket file at `path`: true if a process answers on it (a running daemon).
bool someone_listens(const sockaddr_un& sun) {
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) == 0;
}

}  // namespace

Server::Server(event::Dispatcher& dispatcher, Handler handler)
    : dispatcher_(dispatcher), handler_(std::move(handler)) {
  reaper_ = dispatcher_.timer([this] {
    auto ids = std::move(closing_);
    closing_.clear();
    for (uint64_t id : ids) connections_.erase(id);
  });
}

Server::~Server() {
  *alive_ = false;
  connections_.clear();
  listen_io_.reset();
  if (listen_fd_) {
    listen_fd_.reset();
    ::unlink(path_.c_str());
  }
}

bool Server::start(const std::string& path, uint32_t mode, const std::string& group, std::string& error) {
  sockaddr_un sun;
  if (!make_address(path, sun, error)) return false;
  gid_t gid = static_cast<gid_t>(-1);
  if (!group.empty()) {
    struct group* g = ::getgrnam(group.c_str());
    if (!g) {
      error = "control socket " + path + ": group '" + group +
              "' does not exist (create it: systemd-sysusers, or groupadd " + group + ")";
      return false;
    }
    gid = g->gr_gid;
  }
  struct stat st{};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = "control socket " + path + ": a file that is not a socket is in the way";
      return false;
    }
    if (someone_listens(sun)) {
      error = "control socket " + path + ": another process answers on it (is another sctprelayd running?)";
      return false;
    }
    ::unlink(path.c_str());  // left by a daemon that is gone
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = "control socket: " + errno_text(errno);
    return false;
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sun), sizeof sun) != 0) {
    int e = errno;
    error = "control socket " + path + ": cannot bind: " + errno_text(e);
    if (e == ENOENT) error += " (its directory does not exist; under systemd RuntimeDirectory= makes it)";
    if (e == EACCES) error += " (the daemon's user may not write to its directory)";
    return false;
  }
  // Mode and group before listen(): nobody can connect before they are right.
  if (::chmod(path.c_str(), mode & 0777) != 0) {
    error = "control socket " + path + ": chmod: " + errno_text(errno);
    ::unlink(path.c_str());
    return false;
  }
  // Created in the daemon's own group already when that is the one asked for (no chown needed:
  // the systemd unit runs the daemon in group sctprelay and denies chown).
  struct stat made{};
  if (gid != static_cast<gid_t>(-1) && ::stat(path.c_str(), &made) == 0 && made.st_gid == gid) gid = static_cast<gid_t>(-1);
  if (gid != static_cast<gid_t>(-1) && ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
    int e = errno;
    error = "control socket " + path + ": cannot give it to group '" + group + "': " + errno_text(e);
    if (e == EPERM) error += " (the daemon must run in that group: Group= in the unit, or be root)";
    ::unlink(path.c_str());
    return false;
  }
  if (::listen(fd.get(), 16) != 0) {
    error = "control socket " + path + ": listen: " + errno_text(errno);
    ::unlink(path.c_str());
    return false;
  }
  listen_fd_ = std::move(fd);
  path_ = path;
  listen_io_ = dispatcher_.file_event(listen_fd_.get(), [this](uint32_t) { accept_ready(); });
  listen_io_->watch(event::Readable);
  return true;
}

void Server::accept_ready() {
  for (int i = 0; i < 16; ++i) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        LOG_WARN("control socket: accept: %s", errno_text(errno).c_str());
      return;
    }
    auto c = std::make_unique<Connection>();
    c->id = next_id_++;
    c->fd.reset(fd);
    const uint64_t id = c->id;
    c->io = dispatcher_.file_event(fd, [this, id](uint32_t ready) { on_io(id, ready); });
    c->io->watch(event::Readable);
    c->deadline = dispatcher_.timer([this, id] { close_later(id); });
    c->deadline->arm(kDeadline);
    connections_.emplace(id, std::move(c));
  }
}

void Server::on_io(uint64_t id, uint32_t ready) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if ((ready & event::Writable) && !c.out.empty()) write_out(c);
  if ((ready & event::Readable) && !c.answered) read_request(c);
  else if ((ready & event::Readable) && c.out.empty()) {
    // Waiting for the answer: the only thing left to read is the client going away.
    char b[64];
    ssize_t n = ::recv(c.fd.get(), b, sizeof b, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) close_later(id);
    else c.io->watch(0);  // more than one request: ignored until the answer is written
  }
}

void Server::read_request(Connection& c) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n > 0) {
      c.in.append(buf, static_cast<std::size_t>(n));
      if (c.in.size() > kMaxRequest) {
        c.answered = true;
        answer(c.id, {{"ok", false}, {"error", "request longer than 64 KiB"}});
        return;
      }
      auto nl = c.in.find('\n');
      if (nl == std::string::npos) continue;
      c.in.resize(nl);
      break;
    }
    if (n == 0) {
      if (c.in.empty()) return close_later(c.id);
      break;  // the request without its newline, then EOF: take it
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return close_later(c.id);
  }
  c.answered = true;
  nlohmann::json request = nlohmann::json::parse(c.in, nullptr, /*allow_exceptions=*/false);
  c.in.clear();
  if (request.is_discarded() || !request.is_object() || !request.contains("command") ||
      !request["command"].is_string()) {
    answer(c.id, {{"ok", false}, {"error", "a request is one JSON object with a \"command\" string"}});
    return;
  }
  const uint64_t id = c.id;
  std::weak_ptr<bool> alive = alive_;
  handler_(request, [this, id, alive](const nlohmann::json& a) {
    if (alive.expired()) return;
    answer(id, a);
  });
}

void Server::answer(uint64_t id, const nlohmann::json& a) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;  // it went away while the answer was being made
  Connection& c = *it->second;
  if (!c.out.empty()) return;  // answered already
  c.out = a.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  c.out += '\n';
  c.written = 0;
  write_out(c);
}

void Server::write_out(Connection& c) {
  while (c.written < c.out.size()) {
    ssize_t n = ::send(c.fd.get(), c.out.data() + c.written, c.out.size() - c.written, MSG_NOSIGNAL);
    if (n > 0) {
      c.written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.io->watch(event::Writable);
      return;
    }
    return close_later(c.id);
  }
  close_later(c.id);
}

void Server::close_later(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  if (it->second->io) it->second->io->watch(0);
  if (std::find(closing_.begin(), closing_.end(), id) == closing_.end()) closing_.push_back(id);
  if (!reaper_->armed()) reaper_->arm(std::chrono::microseconds(0));
}

}  // namespace sctprelay::control
