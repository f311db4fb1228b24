#include "metrics/http_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "config/scalars.h"
#include "metrics/prometheus.h"
#include "util/log.h"

namespace sctprelay::metrics {
namespace {

constexpr std::string_view kMetricsPath = "/metrics";
constexpr const char* kPlainText = "text/plain; charset=utf-8";

// Every method libevent knows: the others are answered 405 here rather than 501 by libevent.
constexpr int kEveryMethod = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                             EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH;

std::string with_port(const std::string& address, uint16_t port) {
  if (config::scalars::is_ipv6(address)) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

// "FILE:LINE:COLUMN: metrics.listen: " when the settings came from a file.
std::string config_prefix(const config::Position& where) {
  if (where.line <= 0) return "metrics.listen ";
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": metrics.listen: ";
}

std::string what_to_do(int err, uint16_t port) {
  switch (err) {
    case EADDRINUSE:
      return "another process already listens on port " + std::to_string(port) +
             ": choose a free port in metrics.listen, or stop that process (`ss -ltnp` shows which)";
    case EADDRNOTAVAIL:
      return "this host has no such address: use one of its own addresses, 127.0.0.1 or [::1] for this host only, "
             "or 0.0.0.0 or [::] for every address";
    case EACCES:
      return "ports below 1024 need CAP_NET_BIND_SERVICE: use a port of 1024 or above (9464 is the usual one)";
    default:
      return "";
  }
}

// The answer to one request, made in full before anything is sent.
struct Answer {
  int code = 200;
  const char* reason = "OK";
  const char* content_type = kPlainText;
  std::string body;
  bool allow_header = false;  // 405: name the methods that would do
};

}  // namespace

void HttpServer::HttpFree::operator()(evhttp* http) const { evhttp_free(http); }

HttpServer::HttpServer(event::Dispatcher& dispatcher, config::Metrics settings, Render render, HttpLimits limits)
    : dispatcher_(dispatcher), settings_(std::move(settings)), render_(std::move(render)), limits_(limits) {}

HttpServer::~HttpServer() = default;

std::string HttpServer::endpoint() const {
  return with_port(settings_.address, bound_port_ != 0 ? bound_port_ : settings_.port);
}

bool HttpServer::start(std::string& error) {
  http_.reset(evhttp_new(dispatcher_.base()));
  if (!http_) {
    error = config_prefix(settings_.where) + "cannot set up the metrics HTTP server (out of memory?)";
    return false;
  }
  evhttp_set_allowed_methods(http_.get(), static_cast<ev_uint16_t>(kEveryMethod));
  evhttp_set_max_headers_size(http_.get(), static_cast<ev_ssize_t>(limits_.max_headers_bytes));
  evhttp_set_max_body_size(http_.get(), static_cast<ev_ssize_t>(limits_.max_body_bytes));
  const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(limits_.timeout).count();
  const timeval tv{static_cast<time_t>(usec / 1'000'000), static_cast<suseconds_t>(usec % 1'000'000)};
  evhttp_set_timeout_tv(http_.get(), &tv);
  evhttp_set_gencb(http_.get(), &HttpServer::on_request, this);

  errno = 0;
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http_.get(), settings_.address.c_str(), settings_.port);
  if (bound == nullptr) {
    const int err = errno;
    error = config_prefix(settings_.where) + "cannot listen on " + with_port(settings_.address, settings_.port) +
            " for metrics: " + (err != 0 ? std::strerror(err) : "the address could not be bound");
    if (auto hint = what_to_do(err, settings_.port); !hint.empty()) error += " (" + hint + ")";
    http_.reset();
    return false;
  }
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  const evutil_socket_t fd = evhttp_bound_socket_get_fd(bound);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
    if (local.ss_family == AF_INET) bound_port_ = ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port);
    else if (local.ss_family == AF_INET6) bound_port_ = ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port);
  }
  if (bound_port_ == 0) bound_port_ = settings_.port;
  return true;
}

void HttpServer::on_request(evhttp_request* request, void* self) noexcept {
  try {
    static_cast<HttpServer*>(self)->handle(request);
  } catch (const std::exception& e) {
    LOG_ERROR("metrics: answering a request failed: %s", e.what());
    evhttp_send_error(request, HTTP_INTERNAL, nullptr);
  } catch (...) {
    LOG_ERROR("metrics: answering a request failed");
    evhttp_send_error(request, HTTP_INTERNAL, nullptr);
  }
}

void HttpServer::handle(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* raw_path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  const std::string_view path = raw_path != nullptr && *raw_path != '\0' ? raw_path : "/";
  const evhttp_cmd_type method = evhttp_request_get_command(request);

  Answer answer;
  if (path != kMetricsPath && path != "/") {
    answer.code = HTTP_NOTFOUND;
    answer.reason = "Not Found";
    answer.body = "Not found; the metrics are at /metrics\n";
  } else if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
    answer.code = 405;
    answer.reason = "Method Not Allowed";
    answer.body = "Only GET and HEAD are answered here\n";
    answer.allow_header = true;
  } else if (path == "/") {
    answer.body = "sctprelayd: the Prometheus metrics are at /metrics\n";
  } else {
    try {
      answer.body = render_();
      answer.content_type = kContentType.data();  // a string literal's view: NUL-terminated
      ++scrapes_;
    } catch (const std::exception& e) {
      LOG_ERROR("metrics: rendering the metrics failed: %s", e.what());
      answer.code = HTTP_INTERNAL;
      answer.reason = "Internal Server Error";
      answer.body = "The metrics could not be rendered; see the daemon's log\n";
    }
  }

  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", answer.content_type);
  if (answer.allow_header) evhttp_add_header(headers, "Allow", "GET, HEAD");
  if (method == EVHTTP_REQ_HEAD) {
    // libevent would send the body to a HEAD too: the length a GET would get, and no body.
    evhttp_add_header(headers, "Content-Length", std::to_string(answer.body.size()).c_str());
  } else {
    evbuffer_add(evhttp_request_get_output_buffer(request), answer.body.data(), answer.body.size());
  }
  evhttp_send_reply(request, answer.code, answer.reason, nullptr);
}

}  // namespace sctprelay::metrics
