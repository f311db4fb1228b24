// A minimal HTTP server for the Prometheus scrape, on the daemon's own event loop (libevent's
// evhttp): GET /metrics answers the body `render` makes, GET / a one-line pointer to it, anything
// else 404 (other paths) or 405 (other methods). Requests are small and slow clients are cut off
// (HttpLimits), so a scraper gone wrong cannot hold the loop or its memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.h"
#include "event/dispatcher.h"

struct evhttp;
struct evhttp_request;

namespace sctprelay::metrics {

struct HttpLimits {
  // A connection that has not sent its whole request, or not taken its whole answer, in this time
  // is closed; an idle keep-alive connection too.
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_headers_bytes = 8 * 1024;  // request line and headers together
  std::size_t max_body_bytes = 1024;         // a scrape has no body
};

class HttpServer {
 public:
  using Render = std::function<std::string()>;

  // `settings.address`/`port` say where to listen (port 0: any free port, see port()). `render`
  // makes the /metrics body; it runs on the dispatcher's thread, once per scrape.
  HttpServer(event::Dispatcher& dispatcher, config::Metrics settings, Render render, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving. False with a sentence for the operator in `error` (the address, the
  // system's reason and what to do about it) when the address cannot be bound.
  bool start(std::string& error);

  // The port bound (the one asked for, or the kernel's choice when 0 was asked); 0 before start().
  uint16_t port() const { return bound_port_; }
  // "127.0.0.1:9464", "[::1]:9464": the address asked for with the bound port.
  std::string endpoint() const;

  // Scrapes answered (GET or HEAD /metrics), for tests and logs.
  uint64_t scrapes() const { return scrapes_; }

 private:
  struct HttpFree {
    void operator()(evhttp* http) const;
  };

  static void on_request(evhttp_request* request, void* self) noexcept;
  void handle(evhttp_request* request);

  event::Dispatcher& dispatcher_;
  config::Metrics settings_;
  Render render_;
  HttpLimits limits_;
  std::unique_ptr<evhttp, HttpFree> http_;
  uint16_t bound_port_ = 0;
  uint64_t scrapes_ = 0;
};

}  // namespace sctprelay::metrics
