// The metrics HTTP server on a real loopback TCP socket: a blocking client in a thread talks to
// the server while this thread runs the event loop.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "event/dispatcher.h"
#include "metrics/http_server.h"
#include "metrics/prometheus.h"

namespace sctprelay::metrics {
namespace {

using namespace std::chrono_literals;

constexpr const char* kBody = "# HELP x_total A test counter.\n# TYPE x_total counter\nx_total 1\n";

// A connected blocking TCP socket to 127.0.0.1:port (or ::1), closed on destruction.
class Client {
 public:
  Client(uint16_t port, bool v6 = false) {
    fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};  // nothing here may hang the test
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc;
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      a.sin6_addr = in6addr_loopback;
      rc = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      rc = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    connect_errno_ = rc == 0 ? 0 : errno;
  }
  ~Client() {
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int connect_errno() const { return connect_errno_; }
  bool send_all(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Everything until the server closes (or 5 s without data).
  std::string read_all() {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  // True when the server closed the connection (EOF or reset) within the receive timeout.
  bool closed_by_server() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  int connect_errno_ = 0;
};

struct Response {
  int status = 0;
  std::string headers;  // raw header block, lower-cased names kept as sent
  std::string body;
  std::string header(const std::string& name) const {
    std::size_t pos = 0;
    while ((pos = headers.find("\r\n", pos)) != std::string::npos) {
      pos += 2;
      if (strncasecmp(headers.c_str() + pos, (name + ":").c_str(), name.size() + 1) == 0) {
        std::size_t start = headers.find_first_not_of(' ', pos + name.size() + 1);
        return headers.substr(start, headers.find("\r\n", start) - start);
      }
    }
    return "";
  }
};

Response parse(const std::string& raw) {
  Response r;
  auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || end == std::string::npos) return r;
  r.status = std::atoi(raw.c_str() + 9);
  r.headers = raw.substr(0, end + 2);
  r.body = raw.substr(end + 4);
  return r;
}

class MetricsHttpServer : public ::testing::Test {
 protected:
  void start(HttpLimits limits = {}) {
    config::Metrics settings;
    settings.address = "127.0.0.1";
    settings.port = 0;
    server_ = std::make_unique<HttpServer>(
        dispatcher_, settings,
        [this] {
          ++renders_;
          return std::string(kBody);
        },
        limits);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    ASSERT_NE(server_->port(), 0);
  }

  // Runs the loop until `work` (run in a thread) is done; fails after 10 s.
  template <class Work>
  auto with_loop(Work work) -> decltype(work()) {
    auto done = std::async(std::launch::async, work);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (done.wait_for(0s) != std::future_status::ready) {
      event_base_loop(dispatcher_.base(), EVLOOP_NONBLOCK);
      std::this_thread::sleep_for(1ms);
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "the client did not finish within 10 s";
        break;
      }
    }
    // Keep the loop turning until the thread is done, so it can never block on the server.
    while (done.wait_for(0s) != std::future_status::ready) {
      event_base_loop(dispatcher_.base(), EVLOOP_NONBLOCK);
      std::this_thread::sleep_for(1ms);
    }
    return done.get();
  }

  Response request(const std::string& raw_request) {
    const uint16_t port = server_->port();
    return parse(with_loop([port, raw_request] {
      Client c(port);
      if (c.connect_errno() != 0 || !c.send_all(raw_request)) return std::string();
      return c.read_all();
    }));
  }

  Response get(const std::string& path, const std::string& method = "GET") {
    return request(method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  }

  event::Dispatcher dispatcher_;
  std::unique_ptr<HttpServer> server_;
  int renders_ = 0;
};

TEST_F(MetricsHttpServer, ServesMetrics) {
  start();
  Response r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.header("Content-Type"), std::string(kContentType));
  EXPECT_EQ(r.header("Content-Length"), std::to_string(std::strlen(kBody)));
  EXPECT_EQ(r.body, kBody);
  EXPECT_EQ(renders_, 1);
  EXPECT_EQ(server_->scrapes(), 1u);

  // A query string does not change the path; each scrape renders afresh.
  r = get("/metrics?name[]=x_total");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kBody);
  EXPECT_EQ(renders_, 2);
}

TEST_F(MetricsHttpServer, KeepAliveServesSeveralScrapes) {
  start();
  const uint16_t port = server_->port();
  std::string raw = with_loop([port] {
    Client c(port);
    const std::string one = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string last = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (!c.send_all(one + one + last)) return std::string();
    return c.read_all();
  });
  std::size_t answers = 0;
  for (std::size_t pos = 0; (pos = raw.find("HTTP/1.1 200 OK", pos)) != std::string::npos; ++pos) ++answers;
  EXPECT_EQ(answers, 3u) << raw;
  EXPECT_EQ(renders_, 3);
}

TEST_F(MetricsHttpServer, RootPointsAtMetrics) {
  start();
  Response r = get("/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "sctprelayd: the Prometheus metrics are at /metrics\n");
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsHttpServer, HeadHasHeadersOnly) {
  start();
  Response r = get("/metrics", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), std::string(kContentType));
  EXPECT_EQ(r.header("Content-Length"), std::to_string(std::strlen(kBody)));  // what a GET would get
  EXPECT_EQ(r.body, "");
  // On a kept-alive connection the next answer follows at once (no stray body in between).
  const uint16_t port = server_->port();
  std::string raw = with_loop([port] {
    Client c(port);
    if (!c.send_all("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
      return std::string();
    return c.read_all();
  });
  const auto second = raw.find("HTTP/1.1 200 OK", 1);
  ASSERT_NE(second, std::string::npos) << raw;
  EXPECT_EQ(raw.substr(raw.find("\r\n\r\n") + 4, second - raw.find("\r\n\r\n") - 4), "");
  EXPECT_EQ(parse(raw.substr(second)).body, "sctprelayd: the Prometheus metrics are at /metrics\n");
}

TEST_F(MetricsHttpServer, OtherPathsAre404) {
  start();
  for (const char* path : {"/metrics/", "/nope", "/metricsx", "/favicon.ico"}) {
    Response r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, "Not found; the metrics are at /metrics\n") << path;
  }
  // Other paths are 404 whatever the method.
  EXPECT_EQ(get("/nope", "POST").status, 404);
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsHttpServer, OtherMethodsAre405) {
  start();
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    Response r = get("/metrics", method);
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.header("Allow"), "GET, HEAD") << method;
  }
  Response r = request("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(renders_, 0);
}

TEST_F(MetricsHttpServer, OversizedRequestsAreRefusedAndServingGoesOn) {
  start(HttpLimits{10s, 1024, 64});
  Response big_headers =
      request("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(4096, 'f') + "\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(big_headers.status == 0 || (big_headers.status >= 400 && big_headers.status < 500)) << big_headers.status;
  Response big_body = request("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n" +
                              std::string(4096, 'b'));
  EXPECT_TRUE(big_body.status == 0 || (big_body.status >= 400 && big_body.status < 500)) << big_body.status;
  EXPECT_EQ(get("/metrics").status, 200);
  EXPECT_EQ(renders_, 1);
}

// A client that sends half a request and goes away costs nothing lasting.
TEST_F(MetricsHttpServer, HalfRequestThenCloseDoesNotStopServing) {
  start();
  const uint16_t port = server_->port();
  for (const char* half : {"GET /metr", "GET /metrics HTTP/1.1\r\nHost: x\r\n", "", "\r\n\r\n\x01\x02"}) {
    with_loop([port, half] {
      Client c(port);
      c.send_all(half);
      return 0;  // closes
    });
    // Let the server notice the close before the next client.
    for (int i = 0; i < 10; ++i) event_base_loop(dispatcher_.base(), EVLOOP_NONBLOCK);
  }
  Response r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kBody);
}

// A client that sends half a request and then waits is cut off after the timeout, and others are
// served meanwhile.
TEST_F(MetricsHttpServer, SlowClientIsCutOffAndOthersAreServed) {
  start(HttpLimits{300ms, 8192, 1024});
  const uint16_t port = server_->port();
  auto slow = std::make_shared<Client>(port);
  ASSERT_EQ(slow->connect_errno(), 0);
  ASSERT_TRUE(slow->send_all("GET /metrics HTTP/1.1\r\nHost: x\r\n"));
  Response r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  const auto t0 = std::chrono::steady_clock::now();
  const bool closed = with_loop([slow] { return slow->closed_by_server(); });
  EXPECT_TRUE(closed);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_EQ(get("/metrics").status, 200);
}

TEST_F(MetricsHttpServer, RenderThatThrowsAnswers500) {
  config::Metrics settings;
  settings.address = "127.0.0.1";
  server_ = std::make_unique<HttpServer>(dispatcher_, settings, []() -> std::string { throw std::runtime_error("boom"); });
  std::string error;
  ASSERT_TRUE(server_->start(error)) << error;
  EXPECT_EQ(get("/metrics").status, 500);
  EXPECT_EQ(get("/").status, 200);
}

TEST_F(MetricsHttpServer, PortInUseIsReportedWithWhatToDo) {
  start();
  config::Metrics same;
  same.address = "127.0.0.1";
  same.port = server_->port();
  same.where = config::Position{"t.yaml", 40, 11};
  HttpServer second(dispatcher_, same, [] { return std::string(); });
  std::string error;
  EXPECT_FALSE(second.start(error));
  const std::string where = "127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(error, "t.yaml:40:11: metrics.listen: cannot listen on " + where + " for metrics: " + std::strerror(EADDRINUSE) +
                       " (another process already listens on port " + std::to_string(server_->port()) +
                       ": choose a free port in metrics.listen, or stop that process (`ss -ltnp` shows which))");
  EXPECT_EQ(second.port(), 0);
  // The first one is unaffected.
  EXPECT_EQ(get("/metrics").status, 200);
}

TEST_F(MetricsHttpServer, AddressNotOnThisHostIsReported) {
  config::Metrics elsewhere;
  elsewhere.address = "192.0.2.1";  // TEST-NET-1: never a local address
  elsewhere.port = 9464;
  HttpServer server(dispatcher_, elsewhere, [] { return std::string(); });
  std::string error;
  EXPECT_FALSE(server.start(error));
  EXPECT_NE(error.find("cannot listen on 192.0.2.1:9464 for metrics: " + std::string(std::strerror(EADDRNOTAVAIL))),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("this host has no such address"), std::string::npos) << error;
}

TEST_F(MetricsHttpServer, ClosedOnDestruction) {
  start();
  const uint16_t port = server_->port();
  EXPECT_EQ(server_->endpoint(), "127.0.0.1:" + std::to_string(port));
  server_.reset();
  Client c(port);
  EXPECT_EQ(c.connect_errno(), ECONNREFUSED);
}

TEST_F(MetricsHttpServer, Ipv6Loopback) {
  config::Metrics v6;
  v6.address = "::1";
  HttpServer server(dispatcher_, v6, [] { return std::string(kBody); });
  std::string error;
  if (!server.start(error)) GTEST_SKIP() << "no IPv6 loopback here: " << error;
  EXPECT_EQ(server.endpoint(), "[::1]:" + std::to_string(server.port()));
  const uint16_t port = server.port();
  Response r = parse(with_loop([port] {
    Client c(port, true);
    if (c.connect_errno() != 0 || !c.send_all("GET /metrics HTTP/1.0\r\n\r\n")) return std::string();
    return c.read_all();
  }));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, kBody);
}

}  // namespace
}  // namespace sctprelay::metrics
