// Option parsing with CLI11: `--name VALUE`, `--name=VALUE` or a bare `--flag`, anywhere among
// the positional arguments; when an option is given twice the last one counts. Every value is
// checked here, with a message that names the option, the value and what it should be.
#include "options.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <functional>
#include <limits>

#include <CLI/CLI.hpp>

#include "sctp/socket.h"

namespace sctprelay::client {
namespace {

constexpr const char* kProgram = "sctprelay-client";
constexpr uint64_t kNoMax = std::numeric_limits<uint64_t>::max();
// Up to 10^9 s (31 years): a deadline further away would not fit in the clock's nanoseconds.
constexpr double kMaxSeconds = 1e9;
// At most one message per nanosecond: the pacer's schedule counts in nanoseconds.
constexpr double kMaxRate = 1e9;

constexpr const char* kExitStatus =
    "Exit status: 0 ok, 1 usage error, 2 network or association error, 3 timeout, 4 verification "
    "failed.\nSee sctprelay-client(1) for the output formats.";

// A whole number in [0, max]: decimal, or 0x... hexadecimal (or 0... octal); no sign.
bool to_uint(const std::string& text, uint64_t max, uint64_t& out) {
  if (text.empty() || text[0] == '-' || text[0] == '+' || text[0] == ' ') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v > max) return false;
  out = v;
  return true;
}

// A number above 0 and at most `max` (fractions and exponents allowed).
bool to_positive(const std::string& text, double max, double& out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !(d > 0) || !(d <= max)) return false;
  out = d;
  return true;
}

// Every item a numeric IPv4 or IPv6 address (as sctp::Address parses them); `bad` the first that is not.
bool numeric_addresses(const std::vector<std::string>& hosts, std::string& bad) {
  for (const auto& h : hosts) {
    sctp::Address a;
    if (!sctp::Address::parse(h, 0, a)) {
      bad = h;
      return false;
    }
  }
  return true;
}

constexpr const char* kNumericOnly = "a numeric IPv4 or IPv6 address (host names are not resolved)";

bool port_of(const std::string& text, uint16_t& port) {
  uint64_t n = 0;
  if (!to_uint(text, 65535, n)) return false;
  port = static_cast<uint16_t>(n);
  return true;
}

// CLI11 shows a flag declared as "--progress{on},--no-progress{off}" with its values; the help
// shows the names alone.
class Formatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, is_positional);
    for (auto open = name.find('{'); open != std::string::npos; open = name.find('{', open)) {
      auto close = name.find('}', open);
      if (close == std::string::npos) break;
      name.erase(open, close - open + 1);
    }
    return name;
  }
};

// An option whose value `store` checks and keeps; a value it refuses is a usage error that says
// what was expected.
CLI::Option* add_value(CLI::App& app, const std::string& name, const std::string& type,
                       const std::string& expected, std::function<bool(const std::string&)> store,
                       const std::string& help) {
  auto apply = [name, expected, store = std::move(store)](const std::string& value) {
    if (!store(value)) throw CLI::ValidationError(name, "bad value '" + value + "': " + expected);
  };
  return app.add_option_function<std::string>(name, apply, help)->type_name(type);
}

template <typename T>
CLI::Option* add_number(CLI::App& app, const std::string& name, T& field, uint64_t min, uint64_t max,
                        const std::string& help) {
  std::string expected = "a whole number from " + std::to_string(min) +
                         (max == kNoMax ? " up" : " to " + std::to_string(max));
  auto store = [&field, min, max](const std::string& v) {
    uint64_t n = 0;
    if (!to_uint(v, max, n) || n < min) return false;
    field = static_cast<T>(n);
    return true;
  };
  return add_value(app, name, "N", expected, store, help);
}

CLI::Option* add_seconds(CLI::App& app, const std::string& name, double& field, const std::string& help) {
  return add_value(app, name, "SEC", "a number of seconds above 0, at most 1e9",
                   [&field](const std::string& v) { return to_positive(v, kMaxSeconds, field); }, help);
}

CLI::Option* add_addresses(CLI::App& app, const std::string& name, std::vector<std::string>& field,
                           const std::string& help) {
  auto apply = [name, &field](const std::string& v) {
    field = split_list(v);
    std::string bad;
    if (field.empty()) throw CLI::ValidationError(name, "no address given in '" + v + "'");
    if (!numeric_addresses(field, bad))
      throw CLI::ValidationError(name, "bad address '" + bad + "': " + kNumericOnly);
  };
  return app.add_option_function<std::string>(name, apply, help)->type_name("ADDR[,ADDR...]");
}

// A flag takes no value: `--json=no` is a usage error, not a way to turn it off.
CLI::Option* add_switch(CLI::App& app, const std::string& name, bool& field, const std::string& help) {
  return app.add_flag(name, field, help)->disable_flag_override();
}

CLI::Option* add_progress(CLI::App& app, std::string& mode, const std::string& help) {
  return app.add_flag("--progress{on},--no-progress{off}", mode, help)->disable_flag_override();
}

// Some of CLI11's messages in plainer words; others as they are.
std::string reworded(const CLI::ParseError& e) {
  std::string text = e.what();
  auto ends_with = [&text](const std::string& tail) {
    return text.size() > tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (ends_with(" was given a disallowed flag override"))  // "json was given ..."
    return "--" + text.substr(0, text.find(' ')) + " takes no value";
  if (text.rfind("--", 0) == 0 && ends_with(" missing") && text.find(": 1 required ") != std::string::npos)
    return text.substr(0, text.find(':')) + " needs a value";  // "--count: 1 required N missing"
  return text;
}

ProgressMode progress_mode(const std::string& text) {
  if (text == "on") return ProgressMode::On;
  if (text == "off") return ProgressMode::Off;
  return ProgressMode::Auto;
}

// What the options write to besides the option structs, read back after parsing.
struct Extras {
  std::string send_progress, listen_progress;
  CLI::Option* send_streams = nullptr;
};

void add_send(CLI::App& app, SendOptions& o, Extras& x) {
  add_addresses(app, "HOSTS", o.hosts, "the peer's address, or its addresses separated by commas (multi-homed)")
      ->type_name("HOST[,HOST...]")
      ->required();
  app.add_option_function<std::string>(
         "PORT",
         [&o](const std::string& v) {
           if (!port_of(v, o.port) || o.port == 0)
             throw CLI::ValidationError("PORT", "bad port '" + v + "': a whole number from 1 to 65535");
         },
         "the peer's SCTP port")
      ->type_name("PORT")
      ->required();

  // Stream ids go up to 65534: an association has at most 65535 streams.
  add_number(app, "--stream", o.stream, 0, 65534, "stream for every message")->default_str("0");
  x.send_streams = add_value(
      app, "--streams", "A-B", "a range A-B of stream ids, A <= B <= 65534",
      [&o](const std::string& v) {
        auto dash = v.find('-');
        uint64_t a = 0, b = 0;
        if (dash == std::string::npos || !to_uint(v.substr(0, dash), 65534, a) ||
            !to_uint(v.substr(dash + 1), 65534, b) || a > b)
          return false;
        o.stream_first = uint16_t(a);
        o.stream_last = uint16_t(b);
        return true;
      },
      "round-robin over streams A..B: message i goes on stream A + i % (B-A+1); overrides --stream");
  add_number(app, "--ppid", o.ppid, 0, UINT32_MAX, "payload protocol identifier")->default_str("0");
  add_switch(app, "--unordered", o.unordered, "send unordered (SCTP_UNORDERED)");
  auto* file = add_value(app, "--file", "FILE", "a file name",
                         [&o](const std::string& v) {
                           o.file = v;
                           return !v.empty();
                         },
                         "send the non-empty lines of FILE instead of stdin's");
  auto* count = add_number(app, "--count", o.count, 1, kNoMax, "send N generated messages instead of lines");
  count->excludes(file);
  add_number(app, "--size", o.size, 1, 256u << 20, "bytes per generated message")->default_str("100");
  auto* wait = add_number(app, "--wait-replies", o.wait_replies, 1, kNoMax,
                          "wait for N messages back, printed as reply events");
  add_seconds(app, "--timeout", o.timeout_s,
              "limit for the whole run, less the time --rate holds messages back")
      ->default_str("10");
  auto* rate = add_value(app, "--rate", "N", "messages per second, above 0, at most 1e9",
                         [&o](const std::string& v) { return to_positive(v, kMaxRate, o.rate); },
                         "send at most N messages per second, on a fixed schedule (fractions allowed)");
  add_number(app, "--burst", o.burst, 1, kNoMax,
             "with --rate: at most N messages back to back (default: 10 ms of --rate, at least 1)")
      ->needs(rate);
  add_progress(app, x.send_progress,
               "a progress line on stderr every second (default when stderr is a terminal) / none");
  add_switch(app, "--json", o.json, "JSON lines instead of key=value words");
  add_switch(app, "--hex", o.hex, "add data_hex (the payload in hex) to reply lines");
  add_switch(app, "--verify", o.verify, "every reply must be a copy of a message sent (exit 4 if not)")->needs(wait);
  add_addresses(app, "--local", o.local, "bind these local addresses before connecting");
  add_number(app, "--init-streams", o.streams, 1, 65535,
             "INITMSG in/out stream counts (raised to cover --streams)")
      ->default_str("16");
  add_number(app, "--max-size", o.max_size, 1, kNoMax, "the largest reply accepted, in bytes")
      ->default_str(std::to_string(o.max_size));
}

void add_listen(CLI::App& app, ListenOptions& o, Extras& x) {
  app.add_option_function<std::string>(
         "PORT",
         [&o](const std::string& v) {
           if (!port_of(v, o.port))
             throw CLI::ValidationError("PORT", "bad port '" + v + "': a whole number from 0 to 65535");
         },
         "the SCTP port to listen on (0: an ephemeral one, printed on the first line)")
      ->type_name("PORT")
      ->required();
  add_addresses(app, "--bind", o.bind, "local addresses (several: multi-homed)")->default_str("0.0.0.0");
  add_number(app, "--count", o.count, 1, kNoMax, "exit after N messages (and their echoes)");
  add_seconds(app, "--timeout", o.timeout_s, "exit 3 if still running after SEC seconds");
  add_switch(app, "--echo", o.echo, "send every message back on its association, stream and PPID");
  add_switch(app, "--verify", o.verify, "every message must be a generated one (exit 4 if not)");
  add_progress(app, x.listen_progress, "a progress line on stderr every second / none (the default)");
  add_switch(app, "--json", o.json, "JSON lines instead of key=value words");
  add_switch(app, "--hex", o.hex, "add data_hex (the payload in hex) to message lines");
  add_number(app, "--streams", o.streams, 1, 65535, "INITMSG in/out stream counts")->default_str("16");
  add_number(app, "--max-size", o.max_size, 1, kNoMax, "the largest message accepted, in bytes")
      ->default_str(std::to_string(o.max_size));
}

void configure(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.allow_extras();  // reported below, in words of our own
  app.footer(kExitStatus);
}

ParseResult help(Command command, std::string text) {
  return {ParseResult::Status::Help, command, std::move(text)};
}

ParseResult usage_error(Command command, std::string message) {
  return {ParseResult::Status::UsageError, command, std::move(message)};
}

const char* name_of(Command c) { return c == Command::Send ? "send" : c == Command::Listen ? "listen" : ""; }

Command command_named(const std::string& name) {
  if (name == "send") return Command::Send;
  if (name == "listen") return Command::Listen;
  return Command::None;
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

std::string usage_hint(Command command) {
  std::string out;
  if (command != Command::Listen)
    out += std::string("usage: ") + kProgram + " send [OPTIONS] HOST[,HOST...] PORT\n";
  if (command != Command::Send)
    out += std::string(command == Command::None ? "       " : "usage: ") + kProgram + " listen [OPTIONS] PORT\n";
  if (command == Command::None)
    out += std::string("'") + kProgram + " --help' tells more.\n";
  else
    out += std::string("'") + kProgram + " " + name_of(command) + " --help' lists the options.\n";
  return out;
}

ParseResult parse_command_line(const std::vector<std::string>& args, SendOptions& send, ListenOptions& listen) {
  Extras x;
  CLI::App app("Sends test messages to an SCTP peer, or listens for them and prints each one.", kProgram);
  app.formatter(std::make_shared<Formatter>());
  configure(app);
  app.require_subcommand(1);
  CLI::App* send_app = app.add_subcommand("send", "send lines of stdin or a file, or generated messages");
  CLI::App* listen_app = app.add_subcommand("listen", "accept associations and print every message");
  for (CLI::App* sub : {send_app, listen_app}) configure(*sub);
  app.footer(std::string("'") + kProgram + " send --help' and '" + kProgram +
             " listen --help' list their options.\n" + kExitStatus);
  add_send(*send_app, send, x);
  add_listen(*listen_app, listen, x);

  if (args.empty()) return usage_error(Command::None, "no command given");
  const std::string& first = args[0];
  if (first == "-h" || first == "--help") return help(Command::None, app.help());
  if (first == "help") {
    if (args.size() < 2) return help(Command::None, app.help());
    Command c = command_named(args[1]);
    if (c == Command::None) return usage_error(Command::None, "no help on '" + args[1] + "': not a command");
    return help(c, (c == Command::Send ? send_app : listen_app)->help(kProgram));
  }
  const Command command = command_named(first);
  if (command == Command::None) {
    if (!first.empty() && first[0] == '-')
      return usage_error(command, "option " + first + " before the command: put it after send or listen");
    return usage_error(command, "unknown command '" + first + "'");
  }
  CLI::App* sub = command == Command::Send ? send_app : listen_app;
  const std::string prefix = std::string(name_of(command)) + ": ";

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return help(command, sub->help(kProgram));
  } catch (const CLI::CallForAllHelp&) {
    return help(command, sub->help(kProgram));
  } catch (const CLI::ParseError& e) {
    return usage_error(command, prefix + reworded(e));
  }
  for (const std::string& extra : sub->remaining()) {
    if (extra.size() > 1 && extra[0] == '-')
      return usage_error(command, prefix + "unknown option " + extra);
    return usage_error(command, prefix + "unexpected argument '" + extra + "' (" +
                                    (command == Command::Send ? "HOST[,HOST...] and PORT are given already)"
                                                              : "PORT is given already)"));
  }
  if (command == Command::Send) {
    if (x.send_streams->count() == 0) send.stream_first = send.stream_last = send.stream;
    send.progress = progress_mode(x.send_progress);
  } else {
    listen.progress = progress_mode(x.listen_progress);
  }
  return {ParseResult::Status::Run, command, {}};
}

ParseResult parse_send(const std::vector<std::string>& args, SendOptions& out) {
  std::vector<std::string> all{"send"};
  all.insert(all.end(), args.begin(), args.end());
  ListenOptions unused;
  return parse_command_line(all, out, unused);
}

ParseResult parse_listen(const std::vector<std::string>& args, ListenOptions& out) {
  std::vector<std::string> all{"listen"};
  all.insert(all.end(), args.begin(), args.end());
  SendOptions unused;
  return parse_command_line(all, unused, out);
}

}  // namespace sctprelay::client
