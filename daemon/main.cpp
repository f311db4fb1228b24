// sctprelayd: the SCTP message relay daemon. Parses the command line, loads the config, and runs
// the service (service.h: the relay on a libevent loop, in the foreground, systemd style).
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "config/bounded_load.h"
#include "config/buffer_limits.h"
#include "config/loader.h"
#include "event/dispatcher.h"
#include "daemon/service.h"
#include "util/fd_limit.h"
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
               "sctprelayctl(8) talks to it over its control socket (status, assocs, reload, drain, ...).\n"
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
    std::printf("%s: OK (%s)\n", opts.config.c_str(), cfg->summary().c_str());
    return kExitOk;
  }
  if (!cfg) {
    LOG_ERROR("%s: invalid configuration, not starting", opts.config.c_str());
    return kExitConfig;
  }
  // Writes to a vanished peer must give an error, not kill the daemon.
  signal(SIGPIPE, SIG_IGN);
  // One socket per association: the associations the relay can carry are the descriptors it may open.
  const uint64_t fd_limit = raise_descriptor_limit();

  try {
    sctprelay::event::Dispatcher dispatcher;
    daemon::Service service(dispatcher, {opts.config, opts.log_level}, std::move(*cfg));
    LOG_INFO("sctprelayd %s starting (libevent %s, backend %s, up to %llu descriptors)", SCTPRELAYD_VERSION,
             event_get_version(), dispatcher.backend(), (unsigned long long)fd_limit);
    std::string error;
    if (!service.start(error)) {
      LOG_ERROR("cannot start: %s", error.c_str());
      return kExitRuntime;
    }
    if (!service.run()) {
      LOG_ERROR("event loop failed");
      return kExitRuntime;
    }
    LOG_INFO("stats: %s", service.stats().to_string().c_str());
    LOG_INFO("stopped");
  } catch (const std::exception& e) {
    LOG_ERROR("fatal: %s", e.what());
    return kExitRuntime;
  }
  return kExitOk;
}
