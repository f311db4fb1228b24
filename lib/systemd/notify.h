// systemd readiness protocol (sd_notify): a no-op when not started by systemd (NOTIFY_SOCKET unset).
#pragma once

#include <string>

namespace sctprelay::systemd {

void notify_ready(const std::string& status);
void notify_reloading(const std::string& status);
void notify_stopping(const std::string& status);

}  // namespace sctprelay::systemd
