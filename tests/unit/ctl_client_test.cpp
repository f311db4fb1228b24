// The control socket's client end to end against a small server on a real unix socket: one request
// line out, one answer line back, within a deadline; and the sentences for each way it can fail.
#include <errno.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "control/client.h"
#include "util/unique_fd.h"

using namespace sctprelay;
using nlohmann::json;
using Failure = control::CallResult::Failure;

namespace {

// A temporary directory, removed with what is left in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ctl_client_test.XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

UniqueFd bound_socket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return UniqueFd();
  return fd;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Accepts one connection on a fresh socket, reads the request line, then does what the test says
// with the connection.
class FakeServer {
 public:
  using Behaviour = std::function<void(int fd)>;

  explicit FakeServer(Behaviour behave) : path_(dir_.path() + "/control.sock") {
    listener_ = bound_socket(path_);
    if (listener_ && ::listen(listener_.get(), 4) == 0) {
      thread_ = std::thread([this, behave] {
        UniqueFd conn(::accept(listener_.get(), nullptr, nullptr));
        if (!conn) return;
        char c;
        while (::recv(conn.get(), &c, 1, 0) == 1) {
          request_ += c;
          if (c == '\n') break;
        }
        behave(conn.get());
      });
    }
  }
  ~FakeServer() { finish(); }

  const std::string& path() const { return path_; }
  bool ready() const { return thread_.joinable(); }
  // Waits for the server to be done; returns the request it read.
  const std::string& finish() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  TempDir dir_;
  std::string path_;
  UniqueFd listener_;
  std::string request_;
  std::thread thread_;
};

// Reads until the client closes (a server that never answers).
void hold(int fd) {
  char buf[256];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
}

}  // namespace

TEST(CtlClient, OneRequestLineOneAnswerLine) {
  FakeServer server([](int fd) { write_all(fd, "{\"ok\":true,\"routes\":[]}\n"); });
  ASSERT_TRUE(server.ready());
  auto r = control::call(server.path(), json{{"command", "routes"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.answer, (json{{"ok", true}, {"routes", json::array()}}));
  EXPECT_EQ(server.finish(), "{\"command\":\"routes\"}\n");
}

TEST(CtlClient, ARequestWithInvalidUtf8IsStillSent) {
  FakeServer server([](int fd) { write_all(fd, "{\"ok\":false,\"error\":\"no destination\"}\n"); });
  ASSERT_TRUE(server.ready());
  auto r = control::call(server.path(), json{{"command", "drain"}, {"destination", "core\xff"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(server.finish(), "{\"command\":\"drain\",\"destination\":\"core\xef\xbf\xbd\"}\n");
}

TEST(CtlClient, AnswerInPiecesEndedByClosing) {
  FakeServer server([](int fd) {
    write_all(fd, "{\"ok\":");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_all(fd, "false,\"error\":\"no\"}");
  });
  ASSERT_TRUE(server.ready());
  auto r = control::call(server.path(), json{{"command", "status"}}, std::chrono::milliseconds(5000));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.answer, (json{{"ok", false}, {"error", "no"}}));
}

TEST(CtlClient, LargeAnswer) {
  json big{{"ok", true}, {"associations", json::array()}};
  for (int i = 0; i < 20000; ++i) big["associations"].push_back({{"id", i}, {"label", std::string(40, 'x')}});
  const std::string line = big.dump() + "\n";
  ASSERT_GT(line.size(), 1000000u);
  FakeServer server([&](int fd) { write_all(fd, line); });
  ASSERT_TRUE(server.ready());
  auto r = control::call(server.path(), json{{"command", "assocs"}});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.answer["associations"].size(), 20000u);
}

TEST(CtlClient, NoAnswerWithinTheDeadline) {
  FakeServer server(hold);
  ASSERT_TRUE(server.ready());
  const auto start = std::chrono::steady_clock::now();
  auto r = control::call(server.path(), json{{"command", "reload"}}, std::chrono::milliseconds(200));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.failure, Failure::Timeout);
  EXPECT_EQ(r.error, "no answer from sctprelayd on " + server.path() +
                         " within 0.2 s (it may be busy or stuck (see the daemon's log: journalctl -u sctprelayd); "
                         "--timeout sets a longer wait)");
  EXPECT_GE(took, std::chrono::milliseconds(190));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(CtlClient, ClosedWithoutAnswering) {
  FakeServer server([](int) {});
  ASSERT_TRUE(server.ready());
  auto r = control::call(server.path(), json{{"command", "status"}});
  EXPECT_EQ(r.failure, Failure::Io);
  EXPECT_EQ(r.error, "sctprelayd closed the connection on " + server.path() +
                         " without answering (see the daemon's log: journalctl -u sctprelayd)");
}

TEST(CtlClient, AnswerThatIsNotAJsonObject) {
  FakeServer text([](int fd) { write_all(fd, "hello\n"); });
  ASSERT_TRUE(text.ready());
  auto r = control::call(text.path(), json{{"command", "status"}});
  EXPECT_EQ(r.failure, Failure::BadAnswer);
  EXPECT_EQ(r.error,
            "the answer on " + text.path() + " is not a JSON object: hello (is this sctprelayd's control socket?)");

  FakeServer list([](int fd) { write_all(fd, "[1,2]\n"); });
  ASSERT_TRUE(list.ready());
  EXPECT_EQ(control::call(list.path(), json{{"command", "status"}}).failure, Failure::BadAnswer);
}

TEST(CtlClient, NoSocket) {
  TempDir dir;
  const std::string path = dir.path() + "/control.sock";
  auto r = control::call(path, json{{"command", "status"}});
  EXPECT_EQ(r.failure, Failure::Connect);
  EXPECT_EQ(r.error_number, ENOENT);
  EXPECT_EQ(r.error, "no control socket at " + path +
                         ": is sctprelayd running (systemctl status sctprelayd)? is control.socket set?");
}

TEST(CtlClient, StaleSocket) {
  TempDir dir;
  const std::string path = dir.path() + "/control.sock";
  {
    UniqueFd gone = bound_socket(path);  // bound, never listening, closed: the file stays
    ASSERT_TRUE(gone);
  }
  auto r = control::call(path, json{{"command", "status"}});
  EXPECT_EQ(r.failure, Failure::Connect);
  EXPECT_EQ(r.error_number, ECONNREFUSED);
  EXPECT_EQ(r.error, "nothing listens on " + path + " (stale socket: the daemon is not running)");
}

TEST(CtlClient, PathTooLong) {
  const std::string path = "/tmp/" + std::string(200, 'a');
  auto r = control::call(path, json{{"command", "status"}});
  EXPECT_EQ(r.failure, Failure::Connect);
  EXPECT_EQ(r.error_number, ENAMETOOLONG);
  EXPECT_NE(r.error.find("a unix socket path may be at most 107"), std::string::npos) << r.error;
}

// Root passes any file mode, so permission is tested on the message alone.
TEST(CtlClient, PermissionDeniedMessage) {
  EXPECT_EQ(control::connect_error_message("/run/sctprelayd/control.sock", EACCES, "sctprelay"),
            "permission denied on /run/sctprelayd/control.sock: run as root or as a member of the socket's group "
            "(sctprelay)");
  EXPECT_EQ(control::connect_error_message("/run/x.sock", EACCES, ""),
            "permission denied on /run/x.sock: run as root or as a member of the socket's group (its group could "
            "not be read)");
  EXPECT_EQ(control::connect_error_message("/run/x.sock", ETIMEDOUT, ""),
            std::string("cannot connect to /run/x.sock: ") + std::strerror(ETIMEDOUT));
}

TEST(CtlClient, SocketGroupName) {
  TempDir dir;
  const std::string path = dir.path() + "/control.sock";
  UniqueFd fd = bound_socket(path);
  ASSERT_TRUE(fd);
  const group* g = ::getgrgid(::getegid());
  EXPECT_EQ(control::socket_group_name(path), g ? std::string(g->gr_name) : "gid " + std::to_string(::getegid()));
  EXPECT_EQ(control::socket_group_name(dir.path() + "/missing"), "");
}

TEST(CtlClient, DefaultSocketPath) {
  ::unsetenv("RUNTIME_DIRECTORY");
  EXPECT_EQ(control::default_socket_path(), "/run/sctprelayd/control.sock");
  ::setenv("RUNTIME_DIRECTORY", "/run/sctprelayd", 1);
  EXPECT_EQ(control::default_socket_path(), "/run/sctprelayd/control.sock");
  ::setenv("RUNTIME_DIRECTORY", "/run/one:/run/two", 1);
  EXPECT_EQ(control::default_socket_path(), "/run/one/control.sock");
  ::setenv("RUNTIME_DIRECTORY", "", 1);
  EXPECT_EQ(control::default_socket_path(), "/run/sctprelayd/control.sock");
  ::unsetenv("RUNTIME_DIRECTORY");
}
