// systemd readiness protocol (sd_notify): a no-op when not started by systemd (NOTIFY_SOCKET unset).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace sctprelay::systemd {

void notify_ready(const std::string& status);
void notify_reloading(const std::string& status);
void notify_stopping(const std::string& status);
// STATUS= alone: the one-line summary `systemctl status` shows.
void notify_status(const std::string& status);
// The unit's WatchdogSec= (WATCHDOG_USEC for this process), if it has one; WATCHDOG=1 must
// then come more often than that, from the loop, or systemd kills and restarts the daemon.
std::optional<std::chrono::microseconds> watchdog_interval();
void notify_watchdog();

}  // namespace sctprelay::systemd
