#include "systemd/notify.h"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdint>

namespace sctprelay::systemd {
namespace {
void send(const std::string& state) { sd_notify(0, state.c_str()); }
}  // namespace

void notify_ready(const std::string& status) { send("READY=1\nSTATUS=" + status); }

void notify_reloading(const std::string& status) {
  // MONOTONIC_USEC lets Type=notify-reload managers match this reload to its READY.
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t usec = uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=" + status);
}

void notify_stopping(const std::string& status) { send("STOPPING=1\nSTATUS=" + status); }

void notify_status(const std::string& status) { send("STATUS=" + status); }

std::optional<std::chrono::microseconds> watchdog_interval() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
  return std::chrono::microseconds(usec);
}

void notify_watchdog() { send("WATCHDOG=1"); }

}  // namespace sctprelay::systemd
