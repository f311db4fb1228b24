#include "daemon/service.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "config/buffer_limits.h"
#include "metrics/prometheus.h"
#include "systemd/notify.h"
#include "util/log.h"

namespace sctprelay::daemon {
namespace {

void apply_log_level(const std::string& override_level, const config::Config& cfg) {
  log::Level level;
  if (log::parse_level(override_level.empty() ? cfg.log_level : override_level, level)) log::set_level(level);
}

// Where the control socket goes: the config's, else systemd's RuntimeDirectory (its first entry).
std::string control_path(const config::Control& c) {
  if (!c.socket.empty()) return c.socket;
  const char* rd = std::getenv("RUNTIME_DIRECTORY");
  if (!rd || !*rd) return {};
  std::string dir(rd);
  dir = dir.substr(0, dir.find(':'));
  return dir + "/control.sock";
}

bool same_metrics(const config::Metrics& a, const config::Metrics& b) {
  return a.address == b.address && a.port == b.port;
}

constexpr std::chrono::seconds kStatusEvery{5};

}  // namespace

Service::Service(event::Dispatcher& dispatcher, ServiceOptions options, config::Config first)
    : dispatcher_(dispatcher),
      options_(std::move(options)),
      cfg_(std::move(first)),
      workers_(dispatcher, relay::worker_count(cfg_.workers)),
      reload_(dispatcher, options_.config_path, [this](config::BoundedLoadResult r) { reload_checked(std::move(r)); }) {}

bool Service::start(std::string& error) {
  started_at_ = loaded_at_ = std::chrono::system_clock::now();
  apply_log_level(options_.log_level, cfg_);
  if (!workers_.apply(cfg_, error)) return false;
  if (workers_.count() > 1)
    LOG_INFO("%u workers: each listener's new associations are spread over %u event loops, each loop has its own "
             "association to every destination",
             workers_.count(), workers_.count());

  if (std::string path = control_path(cfg_.control); !path.empty()) {
    control_ = std::make_unique<control::Server>(
        dispatcher_, [this](const nlohmann::json& req, Reply reply) { handle(req, std::move(reply)); });
    if (!control_->start(path, cfg_.control.mode, cfg_.control.group, error)) return false;
    LOG_INFO("control socket %s (mode %04o%s%s)", path.c_str(), cfg_.control.mode,
             cfg_.control.group.empty() ? "" : ", group ", cfg_.control.group.c_str());
  } else {
    LOG_INFO("no control socket (control.socket not set and not under systemd): sctprelayctl cannot reach this daemon");
  }
  if (!cfg_.metrics.address.empty() && !open_metrics(cfg_.metrics, error)) return false;

  sigterm_ = dispatcher_.signal(SIGTERM, [this] { stop(); });
  sigint_ = dispatcher_.signal(SIGINT, [this] { stop(); });
  sigusr1_ = dispatcher_.signal(SIGUSR1, [this] { LOG_INFO("stats: %s", workers_.stats().to_string().c_str()); });
  sighup_ = dispatcher_.signal(SIGHUP, [this] { request_reload("SIGHUP"); });

  // The watchdog is fed from the loop itself: a loop that stops turning stops feeding it.
  if (auto interval = systemd::watchdog_interval()) {
    const auto every = *interval / 3;
    watchdog_ = dispatcher_.timer([this, every] {
      // Every worker's loop must be turning too: one stuck worker starves its associations.
      if (workers_.all_turning())
        systemd::notify_watchdog();
      else
        LOG_WARN("a worker's event loop has not turned for %lld ms: the watchdog is not fed",
                 (long long)std::chrono::duration_cast<std::chrono::milliseconds>(every).count());
      watchdog_->arm(every);
    });
    watchdog_->arm(std::chrono::microseconds(0));
    LOG_INFO("systemd watchdog: %lld ms, fed every %lld ms",
             (long long)std::chrono::duration_cast<std::chrono::milliseconds>(*interval).count(),
             (long long)std::chrono::duration_cast<std::chrono::milliseconds>(every).count());
  }
  // Said once everything is open: whoever waits for this line can use the control socket.
  LOG_INFO("configuration %s loaded: %s", options_.config_path.c_str(), cfg_.summary().c_str());
  last_status_at_ = std::chrono::steady_clock::now();
  systemd::notify_ready(summary_line());
  // The STATUS line is for systemd alone: without it, nothing is gathered for nobody.
  if (std::getenv("NOTIFY_SOCKET")) {
    status_timer_ = dispatcher_.timer([this] {
      publish_status();
      status_timer_->arm(kStatusEvery);
    });
    status_timer_->arm(kStatusEvery);
  }
  return true;
}

bool Service::run() { return dispatcher_.run(); }

void Service::stop() {
  if (stopping_) return;
  stopping_ = true;
  LOG_INFO("stopping: draining queues (up to %lldms), then SHUTDOWN on every association",
           (long long)cfg_.limits.shutdown_drain.count());
  systemd::notify_stopping("draining");
  reload_.cancel();
  for (auto* waiting : {&reload_waiting_, &reload_waiting_next_}) {
    for (auto& reply : *waiting) reply(control::error_answer("the daemon is stopping"));
    waiting->clear();
  }
  workers_.stop(cfg_.limits.shutdown_drain, [this] { dispatcher_.exit(); });
}

void Service::request_reload(const char* why) {
  if (stopping_) return;
  systemd::notify_reloading("reloading " + options_.config_path);
  if (reload_.busy())
    LOG_INFO("reload requested during a check: %s is checked again after it (%s)", options_.config_path.c_str(), why);
  else
    LOG_INFO("reload requested: checking %s (%s)", options_.config_path.c_str(), why);
  reload_.request();
}

void Service::reload_checked(config::BoundedLoadResult loaded) {
  std::string err;
  std::vector<std::string> errors;
  bool applied = false;
  if (loaded.refused) {
    errors.push_back(loaded.load.errors.front().to_string());
    LOG_ERROR("reload rejected: %s; keeping the running configuration", errors.back().c_str());
  } else if (!loaded.load.config) {
    for (auto& e : loaded.load.errors) {
      errors.push_back(e.to_string());
      LOG_ERROR("%s", e.to_string().c_str());
    }
    LOG_ERROR("reload rejected: %s has errors; keeping the running configuration", options_.config_path.c_str());
  } else if (!workers_.apply(*loaded.load.config, err)) {
    errors.push_back(err);
    LOG_ERROR("reload rejected: %s; keeping the running configuration", err.c_str());
  } else {
    const config::Config& next = *loaded.load.config;
    if (next.control.socket != cfg_.control.socket || next.control.group != cfg_.control.group ||
        next.control.mode != cfg_.control.mode)
      LOG_WARN("reload: control socket settings change at the next start, not now");
    if (relay::worker_count(next.workers) != workers_.count())
      LOG_WARN("reload: workers: %u takes effect at the next start; %u workers carry on", relay::worker_count(next.workers),
               workers_.count());
    if (!same_metrics(next.metrics, cfg_.metrics)) {
      std::string merr;
      if (next.metrics.address.empty()) {
        metrics_.reset();
        LOG_INFO("metrics endpoint closed");
      } else {
        // The same port on another address would collide with the old socket: close it first
        // (and put it back if the new one cannot be opened).
        const bool same_port = metrics_ && next.metrics.port == cfg_.metrics.port;
        if (same_port) metrics_.reset();
        if (!open_metrics(next.metrics, merr)) {
          std::string again;
          if (same_port && !open_metrics(cfg_.metrics, again)) LOG_ERROR("reload: metrics endpoint: %s", again.c_str());
          LOG_ERROR("reload: %s; the metrics endpoint stays as it was", merr.c_str());
        }
      }
    }
    config::Control keep = cfg_.control;
    config::Workers keep_workers = cfg_.workers;
    cfg_ = std::move(*loaded.load.config);
    cfg_.control = keep;
    cfg_.workers = keep_workers;
    apply_log_level(options_.log_level, cfg_);
    generation_++;
    loaded_at_ = std::chrono::system_clock::now();
    applied = true;
    LOG_INFO("reload applied: generation %llu: %s", (unsigned long long)generation_, cfg_.summary().c_str());
    // What `sctprelayd --check` warns of (ExecStartPre= runs it at start; a reload comes here).
    auto wmem_max = config::read_sysctl_number(config::kWmemMaxPath);
    if (!wmem_max) wmem_max = config::probe_wmem_max();  // /proc/sys hidden (the unit's ProcSubset=pid)
    if (wmem_max)
      if (auto warning = config::send_buffer_warning(cfg_, *wmem_max)) LOG_WARN("%s", warning->c_str());
  }
  last_reload_ok_ = applied;
  nlohmann::json answer = control::reload_answer(applied, errors, generation_, cfg_.summary());
  if (!applied) answer["error"] = "reload refused: the running configuration stays";
  auto waiting = std::move(reload_waiting_);
  reload_waiting_.clear();
  for (auto& reply : waiting) reply(answer);
  if (!reload_waiting_next_.empty()) {
    // They asked while that check ran: the next one reads the file as it is now.
    reload_waiting_ = std::move(reload_waiting_next_);
    reload_waiting_next_.clear();
    if (!reload_.busy()) reload_.request();
  }
  if (!reload_.busy()) systemd::notify_ready(summary_line());
}

std::string Service::summary_line() const {
  const auto s = workers_.status({});
  std::size_t up = 0;
  for (auto& d : s.destinations) up += d.state == "up" ? 1 : 0;
  uint64_t assocs = 0;
  for (auto& l : s.listeners) assocs += l.associations;
  const auto now = std::chrono::steady_clock::now();
  const double secs = std::chrono::duration<double>(now - last_status_at_).count();
  const uint64_t received = s.totals.received;
  char rate[64] = "";
  if (secs > 0.5 && received >= last_received_)
    std::snprintf(rate, sizeof rate, ", %.0f msg/s", double(received - last_received_) / secs);
  const uint64_t dropped = s.totals.dropped_total();
  return std::string(stopping_ ? "stopping" : "relaying") + ": " + std::to_string(assocs) + " associations on " +
         std::to_string(s.listeners.size()) + " listeners, destinations " + std::to_string(up) + "/" +
         std::to_string(s.destinations.size()) + " up" + rate + ", " + std::to_string(s.totals.queued_bytes) +
         " bytes queued, " + std::to_string(dropped) + " dropped, generation " + std::to_string(generation_);
}

void Service::publish_status() {
  systemd::notify_status(summary_line());
  last_status_at_ = std::chrono::steady_clock::now();
  last_received_ = workers_.stats().received;
}

bool Service::open_metrics(const config::Metrics& m, std::string& error) {
  auto server = std::make_unique<metrics::HttpServer>(dispatcher_, m, [this] { return scrape(); });
  if (!server->start(error)) return false;
  metrics_ = std::move(server);
  LOG_INFO("metrics on http://%s/metrics", metrics_->endpoint().c_str());
  return true;
}

std::string Service::scrape() const {
  metrics::DaemonInfo d;
  d.version = SCTPRELAYD_VERSION;
  d.start_time = std::chrono::duration_cast<std::chrono::seconds>(started_at_.time_since_epoch()).count();
  d.config_generation = generation_;
  d.config_load_time = std::chrono::duration_cast<std::chrono::seconds>(loaded_at_.time_since_epoch()).count();
  d.last_reload_success = last_reload_ok_;
  d.workers = workers_.count();
  return metrics::render_prometheus(workers_.status({}), d);
}

}  // namespace sctprelay::daemon
