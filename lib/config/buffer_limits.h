// Whether the kernel's socket buffer limits let the daemon send its largest messages.
//
// A socket can hold what SO_SNDBUF allows. Without CAP_NET_ADMIN (the systemd unit does not grant
// it) SO_SNDBUF is capped at net.core.wmem_max, which the kernel doubles for its bookkeeping: a
// send buffer of more than 2 x wmem_max is out of reach, and a message larger than the send buffer
// cannot be sent. `sctprelayd --check` warns about that; the installed sysctl.d drop-in
// (60-sctprelayd.conf) raises the limit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"

namespace sctprelay::config {

inline constexpr const char* kWmemMaxPath = "/proc/sys/net/core/wmem_max";

// The installed drop-in's path (for messages).
const char* sysctl_dropin_path();

// The number in a /proc/sys file such as kWmemMaxPath; nullopt when it cannot be read.
std::optional<uint64_t> read_sysctl_number(const std::string& path);

// net.core.wmem_max as the kernel applies it, learnt without /proc/sys (which the systemd unit's
// ProcSubset=pid hides): a socket that asks for the largest send buffer gets 2 x wmem_max.
// nullopt when no socket can be made.
std::optional<uint64_t> probe_wmem_max();

// One line for the operator when limits.max_message_size is larger than 2 x `wmem_max`:
// "FILE:LINE:COLUMN: limits.max_message_size: warning: ..." (position when the file gave the key),
// with the numbers and the fix. nullopt when every message within the limit can be sent.
std::optional<std::string> send_buffer_warning(const Config& cfg, uint64_t wmem_max);

}  // namespace sctprelay::config
