// The `control:` and `metrics:` sections: where the daemon can be asked about itself. Only the
// shape of the values is checked here; whether the group exists and the address can be bound is
// found out by the daemon when it opens them.
#include <algorithm>
#include <cctype>
#include <string_view>

#include "config/document.h"
#include "config/scalars.h"

namespace sctprelay::config {
namespace {

// sockaddr_un::sun_path holds 108 bytes on Linux, the terminating NUL included.
constexpr std::size_t kMaxSocketPath = 107;
// The longest group name accepted (sysconf(_SC_LOGIN_NAME_MAX) on Linux is 256, NUL included).
constexpr std::size_t kMaxGroupName = 255;
// Only the permission bits: no setuid, setgid or sticky bit on a socket file.
constexpr uint32_t kMaxMode = 0777;

std::string quoted(std::string_view t) {
  std::string out(1, '"');
  out += t;
  out += '"';
  return out;
}

void read_socket_path(Diagnostics& diag, const Field& f, Control& out) {
  auto path = read_text(diag, f, "an absolute path for the control socket");
  if (!path) return;
  if (path->find('\0') != std::string::npos) {
    diag.error(f.where, f.path, "the socket path contains a NUL character");
  } else if (path->front() != '/') {
    diag.error(f.where, f.path,
               quoted(*path) + " is not an absolute path (write it from the root, e.g. /run/sctprelayd/control.sock)");
  } else if (path->back() == '/') {
    diag.error(f.where, f.path, quoted(*path) + " names a directory; give the socket's file name too (e.g. " + *path +
                                    "control.sock)");
  } else if (path->size() > kMaxSocketPath) {
    diag.error(f.where, f.path,
               "the socket path is " + std::to_string(path->size()) + " bytes; a unix socket path may be at most " +
                   std::to_string(kMaxSocketPath) + " bytes (the size of sun_path less its terminating NUL)");
  } else {
    out.socket = *path;
  }
}

// The shape of a group name, as useradd/groupadd and systemd accept it: letters, digits, '_',
// '-' and '.', not starting with '-' or '.' (an option, a hidden file), optionally ending in '$';
// not all digits (that would be read as a numeric GID).
void read_group(Diagnostics& diag, const Field& f, Control& out) {
  auto name = read_text(diag, f, "a group name");
  if (!name) return;
  auto body = std::string_view(*name);
  if (body.size() > 1 && body.back() == '$') body.remove_suffix(1);
  auto good = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'; };
  if (name->size() > kMaxGroupName) {
    diag.error(f.where, f.path, "the group name is " + std::to_string(name->size()) + " bytes; at most " +
                                    std::to_string(kMaxGroupName) + " are allowed");
  } else if (!std::all_of(body.begin(), body.end(), good) || body.front() == '-' || body.front() == '.') {
    std::string shown = *name;
    if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
    diag.error(f.where, f.path,
               "invalid group name " + quoted(shown) +
                   " (use letters, digits, '_', '-' and '.', not starting with '-' or '.'; a trailing '$' is allowed)");
  } else if (std::all_of(body.begin(), body.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    diag.error(f.where, f.path, quoted(*name) + " is a number; give the group's name (numeric GIDs are not accepted)");
  } else {
    out.group = *name;
  }
}

// A file mode, always read as octal whether or not it starts with 0: "0660", "660", "0o660".
// YAML parsers differ on a bare 0660 (YAML 1.1: octal, YAML 1.2: decimal 660); yaml-cpp hands
// over the text as written, and the text is what counts here.
void read_mode(Diagnostics& diag, const Field& f, Control& out) {
  auto text = read_text(diag, f, "an octal mode such as 0660");
  if (!text) return;
  std::string_view digits = *text;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O')) digits.remove_prefix(2);
  const std::string shown = quoted(text->size() > 40 ? text->substr(0, 37) + "..." : *text);
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    diag.error(f.where, f.path, shown + " is not an octal mode (write e.g. 0660 or 0600)");
    return;
  }
  if (digits.find_first_of("89") != std::string_view::npos) {
    diag.error(f.where, f.path, shown + " is not an octal mode: 8 and 9 are not octal digits (write e.g. 0660 or 0600)");
    return;
  }
  // Leading zeros are allowed in any number; what counts is the value.
  digits.remove_prefix(std::min(digits.find_first_not_of('0'), digits.size()));
  uint32_t mode = 0;
  bool too_big = digits.size() > 4;
  for (char c : digits.substr(0, 4)) mode = mode * 8 + static_cast<uint32_t>(c - '0');
  if (too_big || mode > kMaxMode) {
    diag.error(f.where, f.path,
               "mode " + shown + " is above 0777: give only the permission bits (no setuid, setgid or sticky bit)");
    return;
  }
  out.mode = mode;
}

// "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464", "[::]:9464".
void read_listen(Diagnostics& diag, const Field& f, Metrics& out) {
  const std::string_view expected = "ADDRESS:PORT such as 127.0.0.1:9464 or \"[::1]:9464\"";
  if (f.value.IsSequence()) {
    // `listen: [::1]:9464` unquoted does not even parse; `listen: [::1]` is a flow list.
    diag.error(f.where, f.path, "expected " + std::string(expected) + ", got a list (quote an IPv6 form: \"[::1]:9464\")");
    return;
  }
  auto text = read_text(diag, f, expected);
  if (!text) return;
  std::string_view t = *text;
  std::string_view host, port;
  bool bracketed = false;
  if (!t.empty() && t.front() == '[') {
    auto close = t.find(']');
    if (close == std::string_view::npos) {
      diag.error(f.where, f.path, quoted(t) + ": '[' without ']' (write an IPv6 address as [::1]:9464)");
      return;
    }
    host = t.substr(1, close - 1);
    std::string_view rest = t.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      diag.error(f.where, f.path, quoted(t) + " has no port (write e.g. [" + std::string(host) + "]:9464)");
      return;
    }
    port = rest.substr(1);
    bracketed = true;
  } else {
    auto colon = t.rfind(':');
    if (colon == std::string_view::npos) {
      if (std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
        diag.error(f.where, f.path, quoted(t) + " has no address (write e.g. 127.0.0.1:" + std::string(t) +
                                        ", or 0.0.0.0:" + std::string(t) + " for every address)");
      else
        diag.error(f.where, f.path, quoted(t) + " has no port (write e.g. " + std::string(t) + ":9464)");
      return;
    }
    if (t.find(':') != colon) {
      diag.error(f.where, f.path, quoted(t) + ": put an IPv6 address in brackets, e.g. \"[::1]:9464\"");
      return;
    }
    host = t.substr(0, colon);
    port = t.substr(colon + 1);
  }

  bool good = true;
  if (host.empty()) {
    diag.error(f.where, f.path, quoted(t) + " has no address (write e.g. 127.0.0.1:9464; 0.0.0.0 or [::] for every address)");
    good = false;
  } else {
    auto address = scalars::parse_address(host);
    if (!scalars::ok(address)) {
      diag.error(f.where, f.path, scalars::error(address));
      good = false;
    } else if (scalars::is_ipv6(scalars::value(address)) != bracketed) {
      diag.error(f.where, f.path,
                 bracketed ? quoted(t) + ": brackets are for IPv6 addresses (write " + scalars::value(address) + ":" +
                                 std::string(port) + ")"
                           : quoted(t) + ": put an IPv6 address in brackets, e.g. \"[::1]:9464\"");
      good = false;
    } else {
      out.address = scalars::value(address);
    }
  }
  const bool port_digits =
      !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  const unsigned long number = port_digits ? std::stoul(std::string(port)) : 0;
  if (!port_digits || number < 1 || number > 65535) {
    diag.error(f.where, f.path, "port " + quoted(port) + " is not a number 1..65535");
    good = false;
  } else {
    out.port = static_cast<uint16_t>(number);
  }
  if (!good) {
    out.address.clear();
    out.port = 0;
  }
}

}  // namespace

void read_control(Diagnostics& diag, const Field& f, Control& out) {
  MapReader map(diag, f, "the control socket settings");
  if (!map.is_map()) return;
  out.where = f.where;
  if (auto v = map.take("socket")) read_socket_path(diag, *v, out);
  if (auto v = map.take("group")) read_group(diag, *v, out);
  if (auto v = map.take("mode")) read_mode(diag, *v, out);
  map.finish({"socket", "group", "mode"});
}

void read_metrics(Diagnostics& diag, const Field& f, Metrics& out) {
  MapReader map(diag, f, "the metrics settings");
  if (!map.is_map()) return;
  out.where = f.where;
  if (auto v = map.require("listen")) {
    out.where = v->where;  // what a bind failure at run time points at
    read_listen(diag, *v, out);
  }
  map.finish({"listen"});
}

}  // namespace sctprelay::config
