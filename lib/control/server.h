// The daemon's end of the control socket (docs/control.md): a unix stream socket on the event
// loop; each connection sends one request line of JSON and gets one answer line, then is closed.
// The answer may come later than the request (a reload waits for its check): the handler gets a
// Reply to call once, whenever it is ready; a connection that went away meanwhile is forgotten and
// its Reply does nothing. Who may connect is the socket file's mode and group.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "event/dispatcher.h"
#include "util/unique_fd.h"

namespace sctprelay::control {

class Server {
 public:
  using Reply = std::function<void(const nlohmann::json& answer)>;
  using Handler = std::function<void(const nlohmann::json& request, Reply reply)>;

  static constexpr std::size_t kMaxRequest = 64 * 1024;
  static constexpr std::chrono::seconds kDeadline{60};

  Server(event::Dispatcher& dispatcher, Handler handler);
  ~Server();  // closes every connection and removes the socket file
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds `path` with the given permission bits and group (empty: the daemon's). A socket file left
  // by a daemon that is gone is replaced; one a running daemon answers on is not (error).
  bool start(const std::string& path, uint32_t mode, const std::string& group, std::string& error);
  const std::string& path() const { return path_; }
  std::size_t connections() const { return connections_.size(); }

 private:
  struct Connection {
    uint64_t id = 0;
    UniqueFd fd;
    std::string in;
    std::string out;
    std::size_t written = 0;
    bool answered = false;  // a request was read: no more is read
    std::unique_ptr<event::FileEvent> io;
    std::unique_ptr<event::Timer> deadline;
  };
  void accept_ready();
  void on_io(uint64_t id, uint32_t ready);
  void read_request(Connection& c);
  void answer(uint64_t id, const nlohmann::json& a);
  void write_out(Connection& c);
  void close_later(uint64_t id);  // never from inside the connection's own callback

  event::Dispatcher& dispatcher_;
  Handler handler_;
  std::string path_;
  UniqueFd listen_fd_;
  std::unique_ptr<event::FileEvent> listen_io_;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::vector<uint64_t> closing_;
  std::unique_ptr<event::Timer> reaper_;
  uint64_t next_id_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // Replies outliving the server do nothing
};

}  // namespace sctprelay::control
