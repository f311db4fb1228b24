// sctprelayd: the SCTP message relay daemon. Parses the command line, loads the config, and runs
// the relay on a libevent loop in the foreground (systemd style). All logic lives in lib/.
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "config/background_load.h"
#include "config/bounded_load.h"
#include "config/buffer_limits.h"
#include "config/loader.h"
#include "event/dispatcher.h"
#include "relay/relay.h"
#include "util/fd_limit.h"
#include "systemd/notify.h"
#include "util/log.h"

namespace {

using namespace sctprelay;

// Exit codes (documented in README and --help).
constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;   // config invalid (also --check failing)
constexpr int kExitUsage = 2;    // bad command line
constexpr int kExitRuntime = 3;  // could not start (a listener cannot bind, ...)

constexpr const char* kDefaultConfig = "/etc/sctprelayd/sctprelayd.yaml";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: sctprelayd [--config FILE] [--check] [--log-level LEVEL]\n"
               "\n"
               "  -c, --config FILE     configuration (default %s)\n"
               "  -t, --check           validate the configuration and exit\n"
               "  -l, --log-level LVL   debug|info|warning|error (overrides the config's log_level)\n"
               "  -V, --version         print the version and exit\n"
               "  -h, --help            this text\n"
               "\n"
               "Runs in the foreground and logs to stderr. Signals: SIGHUP reloads the configuration,\n"
               "SIGTERM/SIGINT drain queues and stop, SIGUSR1 logs counters.\n"
               "A configuration file larger than %zu MiB is refused; it is parsed and checked in a child\n"
               "process that may take %lld s and %llu MiB, and refused if it does not finish within them.\n"
               "Exit codes: 0 ok, 1 invalid configuration, 2 usage error, 3 startup failure.\n",
               kDefaultConfig, config::kMaxConfigBytes >> 20, (long long)config::kMaxLoadTime.count(),
               (unsigned long long)(config::kMaxLoadMemory >> 20));
}

struct Options {
  std::string config = kDefaultConfig;
  bool check = false;
  std::string log_level;
};

bool parse_args(int argc, char** argv, Options& o, int& exit_code) {
  static const option longopts[] = {{"config", required_argument, nullptr, 'c'},
                                    {"check", no_argument, nullptr, 't'},
                                    {"log-level", required_argument, nullptr, 'l'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:tl:Vh", longopts, nullptr)) != -1) {
    switch (c) {
      case 'c': o.config = optarg; break;
      case 't': o.check = true; break;
      case 'l': o.log_level = optarg; break;
      case 'V':
        std::printf("sctprelayd %s\n", SCTPRELAYD_VERSION);
        exit_code = kExitOk;
        return false;
      case 'h':
        usage(stdout);
        exit_code = kExitOk;
        return false;
      default:
        usage(stderr);
        exit_code = kExitUsage;
        return false;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "sctprelayd: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    exit_code = kExitUsage;
    return false;
  }
  return true;
}

// Loads and validates (within the bounds of config/bounded_load.h); prints every problem as
// file:line:column: path: message. --check prints them plainly for people and editors; the
// running daemon logs them.
std::optional<config::Config> load(const std::string& path, bool plain = false) {
  auto result = config::load_file_bounded(path).load;
  for (auto& e : result.errors) {
    if (plain)
      std::fprintf(stderr, "%s\n", e.to_string().c_str());
    else
      LOG_ERROR("%s", e.to_string().c_str());
  }
  return std::move(result.config);
}

void apply_log_level(const Options& o, const config::Config& cfg) {
  log::Level level;
  if (log::parse_level(o.log_level.empty() ? cfg.log_level : o.log_level, level)) log::set_level(level);
}

std::string summary(const config::Config& c) {
  return std::to_string(c.listeners.size()) + " listeners, " + std::to_string(c.destinations.size()) +
         " destinations, " + std::to_string(c.routes.size()) + " routes";
}

}  // namespace

int main(int argc, char** argv) {
  // journald adds its own timestamps; a terminal gets ours.
  log::set_timestamps(std::getenv("JOURNAL_STREAM") == nullptr);
  Options opts;
  int exit_code = kExitOk;
  if (!parse_args(argc, argv, opts, exit_code)) return exit_code;
  if (!opts.log_level.empty()) {
    log::Level level;
    if (!log::parse_level(opts.log_level, level)) {
      std::fprintf(stderr, "sctprelayd: unknown log level '%s'\n", opts.log_level.c_str());
      return kExitUsage;
    }
    log::set_level(level);
  }

  auto cfg = load(opts.config, opts.check);
  if (opts.check) {
    if (!cfg) return kExitConfig;
    // Valid, but the kernel may not let the daemon send its largest messages: a warning only.
    auto wmem_max = config::read_sysctl_number(config::kWmemMaxPath);
    if (!wmem_max) wmem_max = config::probe_wmem_max();  // /proc/sys hidden (the unit's ProcSubset=pid)
    if (wmem_max) {
      if (auto warning = config::send_buffer_warning(*cfg, *wmem_max)) std::fprintf(stderr, "%s\n", warning->c_str());
    }
    std::printf("%s: OK (%s)\n", opts.config.c_str(), summary(*cfg).c_str());
    return kExitOk;
  }
  if (!cfg) {
    LOG_ERROR("%s: invalid configuration, not starting", opts.config.c_str());
    return kExitConfig;
  }
  apply_log_level(opts, *cfg);

  // Writes to a vanished peer must give an error, not kill the daemon.
  signal(SIGPIPE, SIG_IGN);
  // One socket per association: the associations the relay can carry are the descriptors it may open.
  const uint64_t fd_limit = raise_descriptor_limit();

  try {
    event::Dispatcher dispatcher;
    relay::Relay relay(dispatcher);
    LOG_INFO("sctprelayd %s starting (libevent %s, backend %s, up to %llu descriptors)", SCTPRELAYD_VERSION,
             event_get_version(), dispatcher.backend(), (unsigned long long)fd_limit);
    std::string error;
    if (!relay.apply(*cfg, error)) {
      LOG_ERROR("cannot start: %s", error.c_str());
      return kExitRuntime;
    }
    LOG_INFO("configuration %s loaded: %s", opts.config.c_str(), summary(*cfg).c_str());
    systemd::notify_ready("relaying: " + summary(*cfg));

    // A reload's file is checked in a child process while the loop goes on relaying; SIGHUPs
    // during a check make one more check after it (of the file as it is then).
    config::BackgroundLoad reload(dispatcher, opts.config, [&](config::BoundedLoadResult loaded) {
      std::string err;
      if (loaded.refused) {
        LOG_ERROR("reload rejected: %s; keeping the running configuration",
                  loaded.load.errors.front().to_string().c_str());
      } else if (!loaded.load.config) {
        for (auto& e : loaded.load.errors) LOG_ERROR("%s", e.to_string().c_str());
        LOG_ERROR("reload rejected: %s has errors; keeping the running configuration", opts.config.c_str());
      } else if (!relay.apply(*loaded.load.config, err)) {
        LOG_ERROR("reload rejected: %s; keeping the running configuration", err.c_str());
      } else {
        cfg = std::move(loaded.load.config);
        apply_log_level(opts, *cfg);
        LOG_INFO("reload applied: %s", summary(*cfg).c_str());
      }
      if (!reload.busy()) systemd::notify_ready("relaying: " + summary(*cfg));
    });

    bool stopping = false;
    auto stop = [&] {
      if (stopping) return;
      stopping = true;
      LOG_INFO("stopping: draining queues (up to %lldms), then SHUTDOWN on every association",
               (long long)cfg->limits.shutdown_drain.count());
      systemd::notify_stopping("draining");
      reload.cancel();
      relay.stop(cfg->limits.shutdown_drain, [&] { dispatcher.exit(); });
    };
    auto sigterm = dispatcher.signal(SIGTERM, stop);
    auto sigint = dispatcher.signal(SIGINT, stop);
    auto sigusr1 = dispatcher.signal(SIGUSR1, [&] { LOG_INFO("stats: %s", relay.stats().to_string().c_str()); });
    auto sighup = dispatcher.signal(SIGHUP, [&] {
      if (stopping) return;
      systemd::notify_reloading("reloading " + opts.config);
      if (reload.busy()) LOG_INFO("reload requested during a check: %s is checked again after it", opts.config.c_str());
      else LOG_INFO("reload requested: checking %s", opts.config.c_str());
      reload.request();
    });

    if (!dispatcher.run()) {
      LOG_ERROR("event loop failed");
      return kExitRuntime;
    }
    LOG_INFO("stats: %s", relay.stats().to_string().c_str());
    LOG_INFO("stopped");
  } catch (const std::exception& e) {
    LOG_ERROR("fatal: %s", e.what());
    return kExitRuntime;
  }
  return kExitOk;
}
