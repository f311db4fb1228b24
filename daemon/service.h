// The running daemon: the relay on its loop, with everything around it that the operator talks to:
// reloads (SIGHUP or `sctprelayctl reload`), the control socket, the metrics endpoint, systemd's
// readiness, STATUS line and watchdog, and the graceful stop. main.cpp parses the command line and
// loads the first configuration; everything after that lives here.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/background_load.h"
#include "config/config.h"
#include "control/server.h"
#include "control/status_json.h"
#include "event/dispatcher.h"
#include "metrics/http_server.h"
#include "relay/workers.h"

namespace sctprelay::daemon {

struct ServiceOptions {
  std::string config_path;
  std::string log_level;  // overrides the config's log_level when set
};

class Service {
 public:
  Service(event::Dispatcher& dispatcher, ServiceOptions options, config::Config first);
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Applies the first configuration and opens the control socket and metrics endpoint. False (and
  // `error`) when a listener cannot bind or the control socket cannot be made.
  bool start(std::string& error);
  // Runs the loop until the graceful stop is done. False on a libevent error.
  bool run();
  relay::Stats stats() const { return workers_.stats(); }

 private:
  using Reply = control::Server::Reply;

  // reloading (service.cpp)
  void request_reload(const char* why);
  void reload_checked(config::BoundedLoadResult loaded);
  void stop();

  // systemd and the STATUS line (service.cpp)
  std::string summary_line() const;
  void publish_status();

  // the control socket's commands (control_commands.cpp)
  void handle(const nlohmann::json& request, Reply reply);
  void reload_command(Reply reply);
  control::DaemonInfo daemon_info() const;

  // metrics (service.cpp)
  bool open_metrics(const config::Metrics& m, std::string& error);
  std::string scrape() const;

  event::Dispatcher& dispatcher_;
  ServiceOptions options_;
  config::Config cfg_;
  relay::Workers workers_;
  config::BackgroundLoad reload_;
  std::unique_ptr<control::Server> control_;
  std::unique_ptr<metrics::HttpServer> metrics_;
  std::unique_ptr<event::SignalEvent> sigterm_, sigint_, sigusr1_, sighup_;
  std::unique_ptr<event::Timer> watchdog_;
  std::unique_ptr<event::Timer> status_timer_;

  // `sctprelayctl reload`s waiting for the check that reads the file after they asked.
  std::vector<Reply> reload_waiting_;       // for the check running now (or about to start)
  std::vector<Reply> reload_waiting_next_;  // asked during a check: for the one after it

  bool stopping_ = false;
  uint64_t generation_ = 1;                 // +1 per applied reload
  bool last_reload_ok_ = true;
  std::chrono::system_clock::time_point started_at_;
  std::chrono::system_clock::time_point loaded_at_;
  uint64_t last_received_ = 0;              // for the STATUS line's rate
  std::chrono::steady_clock::time_point last_status_at_;
};

}  // namespace sctprelay::daemon
