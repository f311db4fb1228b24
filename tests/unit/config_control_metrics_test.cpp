// The `control:` and `metrics:` sections: values as read, and golden errors with their positions.
#include <gtest/gtest.h>

#include <fstream>

#include "config/loader.h"
#include "config_helpers.h"

namespace sctprelay::config {
namespace {

using test::Lines;
using test::load_ok;
using test::errors_of;
using test::with_listener;

TEST(ConfigControl, DefaultsWhenAbsent) {
  Config c = load_ok(with_listener(""));
  EXPECT_EQ(c.control.socket, "");
  EXPECT_EQ(c.control.group, "");
  EXPECT_EQ(c.control.mode, 0660u);
  EXPECT_EQ(c.control.where.line, 0);
  EXPECT_EQ(c.metrics.address, "");
  EXPECT_EQ(c.metrics.port, 0);
  EXPECT_EQ(c.metrics.where.line, 0);
}

TEST(ConfigControl, AllKeys) {
  Config c = load_ok(with_listener("control:\n  socket: /run/sctprelayd/control.sock\n  group: sctprelay-ops\n  mode: 0640\n"));
  EXPECT_EQ(c.control.socket, "/run/sctprelayd/control.sock");
  EXPECT_EQ(c.control.group, "sctprelay-ops");
  EXPECT_EQ(c.control.mode, 0640u);
  EXPECT_EQ(c.control.where.file, "t.yaml");
  EXPECT_EQ(c.control.where.line, 4);
  EXPECT_EQ(c.control.where.column, 3);
}

TEST(ConfigControl, EmptyMapKeepsTheDefaults) {
  Config c = load_ok(with_listener("control: {}\n"));
  EXPECT_EQ(c.control.socket, "");
  EXPECT_EQ(c.control.mode, 0660u);
  EXPECT_EQ(c.control.where.line, 3);
}

// The mode is octal however it is written; YAML 1.1 and 1.2 disagree on a bare 0660, the text does not.
TEST(ConfigControl, ModeIsAlwaysOctal) {
  const std::pair<const char*, uint32_t> cases[] = {
      {"0660", 0660}, {"\"0660\"", 0660}, {"'0600'", 0600}, {"660", 0660}, {"0o640", 0640}, {"00660", 0660},
      {"0", 0},       {"0777", 0777},     {"000777", 0777}, {"7", 07},
  };
  for (auto& [text, mode] : cases) {
    Config c = load_ok(with_listener(std::string("control: {mode: ") + text + "}\n"));
    EXPECT_EQ(c.control.mode, mode) << text;
  }
}

TEST(ConfigControl, GroupNames) {
  for (const char* name : {"sctprelay", "wheel", "_ops", "ops-team", "ops.team", "Ops2", "machine$", "0ps"}) {
    Config c = load_ok(with_listener(std::string("control: {group: \"") + name + "\"}\n"));
    EXPECT_EQ(c.control.group, name);
  }
}

TEST(ConfigControl, SocketPathAtTheLimit) {
  const std::string path = "/" + std::string(106, 's');  // 107 bytes: sun_path less its NUL
  Config c = load_ok(with_listener("control: {socket: " + path + "}\n"));
  EXPECT_EQ(c.control.socket, path);
}

TEST(ConfigControl, BadValuesEachReportedAtTheirPlace) {
  const std::string too_long = "/run/" + std::string(103, 'x');  // 108 bytes
  EXPECT_EQ(errors_of(with_listener("control:\n"
                           "  socket: run/control.sock\n"
                           "  group: \"ops:team\"\n"
                           "  mode: 0680\n"
                           "  sockt: /x\n")),
            Lines({
                "t.yaml:4:11: control.socket: \"run/control.sock\" is not an absolute path (write it from the root, "
                "e.g. /run/sctprelayd/control.sock)",
                "t.yaml:5:10: control.group: invalid group name \"ops:team\" (use letters, digits, '_', '-' and '.', "
                "not starting with '-' or '.'; a trailing '$' is allowed)",
                "t.yaml:6:9: control.mode: \"0680\" is not an octal mode: 8 and 9 are not octal digits (write e.g. "
                "0660 or 0600)",
                "t.yaml:7:3: control.sockt: unknown key \"sockt\" (did you mean \"socket\"?)",
            }));
  EXPECT_EQ(errors_of(with_listener("control: {socket: " + too_long + "}\n")),
            Lines({"t.yaml:3:19: control.socket: the socket path is 108 bytes; a unix socket path may be at most 107 "
                   "bytes (the size of sun_path less its terminating NUL)"}));
  EXPECT_EQ(errors_of(with_listener("control: {socket: /run/sctprelayd/}\n")),
            Lines({"t.yaml:3:19: control.socket: \"/run/sctprelayd/\" names a directory; give the socket's file name "
                   "too (e.g. /run/sctprelayd/control.sock)"}));
  EXPECT_EQ(errors_of(with_listener("control: {socket: \"\"}\n")),
            Lines({"t.yaml:3:19: control.socket: expected an absolute path for the control socket, got an empty "
                   "string"}));
  EXPECT_EQ(errors_of(with_listener("control: {socket: [/a, /b]}\n")),
            Lines({"t.yaml:3:19: control.socket: expected an absolute path for the control socket, got a list"}));
}

TEST(ConfigControl, BadGroups) {
  auto one = [](const std::string& value) {
    Lines got = errors_of(with_listener("control: {group: " + value + "}\n"));
    return got.size() == 1 ? got[0] : "(" + std::to_string(got.size()) + " errors)";
  };
  const std::string shape =
      " (use letters, digits, '_', '-' and '.', not starting with '-' or '.'; a trailing '$' is allowed)";
  EXPECT_EQ(one("wheel/x"), "t.yaml:3:18: control.group: invalid group name \"wheel/x\"" + shape);
  EXPECT_EQ(one("-ops"), "t.yaml:3:18: control.group: invalid group name \"-ops\"" + shape);
  EXPECT_EQ(one(".ops"), "t.yaml:3:18: control.group: invalid group name \".ops\"" + shape);
  EXPECT_EQ(one("\"ops team\""), "t.yaml:3:18: control.group: invalid group name \"ops team\"" + shape);
  EXPECT_EQ(one("\"$\""), "t.yaml:3:18: control.group: invalid group name \"$\"" + shape);
  EXPECT_EQ(one("1000"),
            "t.yaml:3:18: control.group: \"1000\" is a number; give the group's name (numeric GIDs are not accepted)");
  EXPECT_EQ(one("\"\""), "t.yaml:3:18: control.group: expected a group name, got an empty string");
  EXPECT_EQ(one(std::string(256, 'g')),
            "t.yaml:3:18: control.group: the group name is 256 bytes; at most 255 are allowed");
}

TEST(ConfigControl, BadModes) {
  auto one = [](const std::string& value) {
    Lines got = errors_of(with_listener("control: {mode: " + value + "}\n"));
    return got.size() == 1 ? got[0] : "(" + std::to_string(got.size()) + " errors)";
  };
  const std::string above = " is above 0777: give only the permission bits (no setuid, setgid or sticky bit)";
  EXPECT_EQ(one("01777"), "t.yaml:3:17: control.mode: mode \"01777\"" + above);
  EXPECT_EQ(one("1000"), "t.yaml:3:17: control.mode: mode \"1000\"" + above);
  EXPECT_EQ(one("\"04755\""), "t.yaml:3:17: control.mode: mode \"04755\"" + above);
  EXPECT_EQ(one("777777777777777777777777"), "t.yaml:3:17: control.mode: mode \"777777777777777777777777\"" + above);
  EXPECT_EQ(one("0669"),
            "t.yaml:3:17: control.mode: \"0669\" is not an octal mode: 8 and 9 are not octal digits (write e.g. 0660 "
            "or 0600)");
  EXPECT_EQ(one("0x1b0"), "t.yaml:3:17: control.mode: \"0x1b0\" is not an octal mode (write e.g. 0660 or 0600)");
  EXPECT_EQ(one("rw-rw----"), "t.yaml:3:17: control.mode: \"rw-rw----\" is not an octal mode (write e.g. 0660 or 0600)");
  EXPECT_EQ(one("-0660"), "t.yaml:3:17: control.mode: \"-0660\" is not an octal mode (write e.g. 0660 or 0600)");
  EXPECT_EQ(one("0o"), "t.yaml:3:17: control.mode: \"0o\" is not an octal mode (write e.g. 0660 or 0600)");
  EXPECT_EQ(one("[0660]"), "t.yaml:3:17: control.mode: expected an octal mode such as 0660, got a list");
}

TEST(ConfigControl, NotAMap) {
  EXPECT_EQ(errors_of(with_listener("control: /run/x.sock\n")),
            Lines({"t.yaml:3:10: control: expected the control socket settings (a map of keys), got \"/run/x.sock\""}));
  EXPECT_EQ(errors_of(with_listener("control:\n")),
            Lines({"t.yaml:3:1: control: expected the control socket settings (a map of keys), got nothing"}));
}

TEST(ConfigMetrics, ListenForms) {
  const struct {
    const char* text;
    const char* address;
    uint16_t port;
  } cases[] = {
      {"127.0.0.1:9464", "127.0.0.1", 9464},
      {"\"127.0.0.1:9464\"", "127.0.0.1", 9464},
      {"0.0.0.0:9100", "0.0.0.0", 9100},
      {"\"[::1]:9464\"", "::1", 9464},
      {"\"[::]:1\"", "::", 1},
      {"\"[2001:DB8:0::7]:65535\"", "2001:db8::7", 65535},
      {"\"[::ffff:127.0.0.1]:9464\"", "::ffff:127.0.0.1", 9464},
  };
  for (auto& c : cases) {
    Config cfg = load_ok(with_listener(std::string("metrics:\n  listen: ") + c.text + "\n"));
    EXPECT_EQ(cfg.metrics.address, c.address) << c.text;
    EXPECT_EQ(cfg.metrics.port, c.port) << c.text;
    // The position is the listen value's: a bind failure at run time points at it.
    EXPECT_EQ(cfg.metrics.where.file, "t.yaml");
    EXPECT_EQ(cfg.metrics.where.line, 4);
    EXPECT_EQ(cfg.metrics.where.column, 11);
  }
}

TEST(ConfigMetrics, BadListen) {
  auto one = [](const std::string& value) {
    Lines got = errors_of(with_listener("metrics: {listen: " + value + "}\n"));
    return got.size() == 1 ? got[0] : "(" + std::to_string(got.size()) + " errors: " + (got.empty() ? "" : got[0]) + ")";
  };
  const std::string at = "t.yaml:3:19: metrics.listen: ";
  EXPECT_EQ(one("localhost:9464"),
            at + "\"localhost\" is not an IPv4 or IPv6 address (host names are not resolved)");
  EXPECT_EQ(one("127.0.0.1"), at + "\"127.0.0.1\" has no port (write e.g. 127.0.0.1:9464)");
  EXPECT_EQ(one("\"::1:9464\""), at + "\"::1:9464\": put an IPv6 address in brackets, e.g. \"[::1]:9464\"");
  EXPECT_EQ(one("\"[::1]\""), at + "\"[::1]\" has no port (write e.g. [::1]:9464)");
  EXPECT_EQ(one("\"[::1]9464\""), at + "\"[::1]9464\" has no port (write e.g. [::1]:9464)");
  EXPECT_EQ(one("\"[::1:9464\""), at + "\"[::1:9464\": '[' without ']' (write an IPv6 address as [::1]:9464)");
  EXPECT_EQ(one("\"[127.0.0.1]:9464\""),
            at + "\"[127.0.0.1]:9464\": brackets are for IPv6 addresses (write 127.0.0.1:9464)");
  EXPECT_EQ(one("\"[fe80::1%eth0]:9464\""),
            at + "\"fe80::1%eth0\" has a zone index; give a global or loopback address");
  EXPECT_EQ(one(":9464"), at + "\":9464\" has no address (write e.g. 127.0.0.1:9464; 0.0.0.0 or [::] for every address)");
  EXPECT_EQ(one("127.0.0.1:0"), at + "port \"0\" is not a number 1..65535");
  EXPECT_EQ(one("127.0.0.1:65536"), at + "port \"65536\" is not a number 1..65535");
  EXPECT_EQ(one("127.0.0.1:http"), at + "port \"http\" is not a number 1..65535");
  EXPECT_EQ(one("\"127.0.0.1:\""), at + "port \"\" is not a number 1..65535");
  EXPECT_EQ(one("9464"), at + "\"9464\" has no address (write e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for every address)");
  EXPECT_EQ(one("[\"::1\"]"), at + "expected ADDRESS:PORT such as 127.0.0.1:9464 or \"[::1]:9464\", got a list "
                                   "(quote an IPv6 form: \"[::1]:9464\")");
  EXPECT_EQ(one("{a: 1}"), at + "expected ADDRESS:PORT such as 127.0.0.1:9464 or \"[::1]:9464\", got a map");
}

TEST(ConfigMetrics, BothHalvesWrongAreBothReported) {
  EXPECT_EQ(errors_of(with_listener("metrics: {listen: \"bogus:99999\"}\n")),
            Lines({"t.yaml:3:19: metrics.listen: \"bogus\" is not an IPv4 or IPv6 address (host names are not resolved)",
                   "t.yaml:3:19: metrics.listen: port \"99999\" is not a number 1..65535"}));
}

TEST(ConfigMetrics, MapShape) {
  EXPECT_EQ(errors_of(with_listener("metrics: {}\n")), Lines({"t.yaml:3:10: metrics: missing required key \"listen\""}));
  EXPECT_EQ(errors_of(with_listener("metrics:\n  listen: 127.0.0.1:9464\n  path: /metrics\n")),
            Lines({"t.yaml:5:3: metrics.path: unknown key \"path\" (allowed: listen)"}));
  EXPECT_EQ(errors_of(with_listener("metrics: 127.0.0.1:9464\n")),
            Lines({"t.yaml:3:10: metrics: expected the metrics settings (a map of keys), got \"127.0.0.1:9464\""}));
}

// Both sections together, as in the documentation.
TEST(ConfigMetrics, WithControl) {
  Config c = load_ok(with_listener("control:\n  socket: /run/sctprelayd/control.sock\n  mode: \"0660\"\n"
                          "metrics:\n  listen: \"[::1]:9464\"\n"));
  EXPECT_EQ(c.control.socket, "/run/sctprelayd/control.sock");
  EXPECT_EQ(c.control.mode, 0660u);
  EXPECT_EQ(c.metrics.address, "::1");
  EXPECT_EQ(c.metrics.port, 9464);
  EXPECT_EQ(c.metrics.where.line, 7);
}

// The commented examples in the installed sample configuration load as they stand once
// uncommented (the "# control:" and "# metrics:" blocks).
TEST(ConfigMetrics, SampleConfigExamplesLoadWhenUncommented) {
  std::ifstream in(std::string(SOURCE_DIR) + "/config/sctprelayd.yaml");
  ASSERT_TRUE(in) << "config/sctprelayd.yaml not found";
  std::string text, line;
  bool in_block = false;
  int uncommented = 0;
  while (std::getline(in, line)) {
    if (line == "# control:" || line == "# metrics:") {
      in_block = true;
      line = line.substr(2);
      ++uncommented;
    } else if (in_block && line.rfind("#   ", 0) == 0) {
      line = line.substr(2);
      ++uncommented;
    } else {
      in_block = false;
    }
    text += line + "\n";
  }
  ASSERT_GE(uncommented, 5) << "the sample no longer has the control and metrics examples";
  Config c = load_ok(text);
  EXPECT_EQ(c.control.socket, "/run/sctprelayd/control.sock");
  EXPECT_EQ(c.control.group, "sctprelay-ops");
  EXPECT_EQ(c.control.mode, 0660u);
  EXPECT_EQ(c.metrics.address, "127.0.0.1");
  EXPECT_EQ(c.metrics.port, 9464);
}

}  // namespace
}  // namespace sctprelay::config
