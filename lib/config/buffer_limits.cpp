#include "config/buffer_limits.h"

#include <sys/socket.h>

#include <climits>
#include <fstream>

#include "config/loader.h"
#include "config/scalars.h"
#include "util/unique_fd.h"

#ifndef SCTPRELAY_SYSCTL_DROPIN
#define SCTPRELAY_SYSCTL_DROPIN "/usr/local/lib/sysctl.d/60-sctprelayd.conf"
#endif

namespace sctprelay::config {

const char* sysctl_dropin_path() { return SCTPRELAY_SYSCTL_DROPIN; }

std::optional<uint64_t> read_sysctl_number(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text)) return std::nullopt;
  auto n = scalars::parse_uint(text, 0, UINT64_MAX);
  if (!scalars::ok(n)) return std::nullopt;
  return scalars::value(n);
}

std::optional<uint64_t> probe_wmem_max() {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) fd = UniqueFd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::nullopt;
  // The kernel caps the request at wmem_max and doubles it for its bookkeeping (SO_SNDBUF, not
  // SO_SNDBUFFORCE: no capability lifts the cap).
  int ask = INT_MAX / 2;
  int got = 0;
  socklen_t len = sizeof got;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &ask, sizeof ask) != 0 ||
      ::getsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &got, &len) != 0 || got <= 0)
    return std::nullopt;
  return static_cast<uint64_t>(got) / 2;
}

std::optional<std::string> send_buffer_warning(const Config& cfg, uint64_t wmem_max) {
  const uint64_t reachable = wmem_max > UINT64_MAX / 2 ? UINT64_MAX : 2 * wmem_max;
  const uint64_t size = cfg.limits.max_message_size;
  if (size <= reachable) return std::nullopt;
  ConfigError line;
  line.where = cfg.limits.max_message_size_where;
  if (line.where.file.empty()) line.where.file = cfg.source_file;
  line.path = "limits.max_message_size";
  // "64MiB (67108864 bytes)", "1000 bytes"; "..., the default" when the file does not set it.
  std::string value = scalars::format_size(size);
  const std::string bytes = std::to_string(size) + " bytes";
  const std::string the_default = line.where.line > 0 ? "" : "the default";
  if (value != bytes) value += " (" + bytes + (the_default.empty() ? "" : ", " + the_default) + ")";
  else if (!the_default.empty()) value += " (" + the_default + ")";
  line.message = "warning: " + value + " is more than a send buffer can hold here: 2 x net.core.wmem_max = " +
                 std::to_string(reachable) + " bytes (wmem_max " + std::to_string(wmem_max) +
                 "), so messages above that cannot be sent; raise net.core.wmem_max to at least " +
                 std::to_string(size / 2 + size % 2) + " (e.g. with the installed " + sysctl_dropin_path() +
                 ", then `sysctl --system`) or lower max_message_size";
  return line.to_string();
}

}  // namespace sctprelay::config
