// sctprelay-client: sends test messages to an SCTP peer and listens for them (docs/client.md).
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"
#include "exit_codes.h"
#include "util/log.h"

namespace {

const char* kUsage =
    "usage:\n"
    "  sctprelay-client send [OPTIONS] HOST[,HOST...] PORT\n"
    "      messages from stdin lines (default), --file F lines, or --count N --size S generated\n"
    "      --stream N | --streams A-B   stream (or round-robin range), default 0\n"
    "      --ppid N  --unordered  --local ADDR[,ADDR...]  --init-streams N\n"
    "      --wait-replies N  --verify (replies must equal sent messages)\n"
    "      --timeout SEC (default 10)  --json  --hex  --max-size BYTES\n"
    "  sctprelay-client listen [OPTIONS] PORT\n"
    "      --bind ADDR[,ADDR...] (default 0.0.0.0)  --count N  --timeout SEC  --echo\n"
    "      --verify (messages must be `send --count` ones)  --streams N  --json  --hex  --max-size BYTES\n"
    "exit status: 0 ok, 1 usage, 2 network/association error, 3 timeout, 4 verification failed\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "sctprelay-client: %s\n%s", message.c_str(), kUsage);
  return sctprelay::client::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sctprelay::client;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  sctprelay::log::set_timestamps(true);  // a terminal tool: "hh:mm:ss.mmm error: ..." on stderr
  if (argc < 2) return usage_error("no command given");
  std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "-h" || command == "--help" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  if (command == "send") {
    SendOptions o;
    if (auto err = parse_send(args, o); !err.empty()) return usage_error(err);
    return run_send(o);
  }
  if (command == "listen") {
    ListenOptions o;
    if (auto err = parse_listen(args, o); !err.empty()) return usage_error(err);
    return run_listen(o);
  }
  return usage_error("unknown command '" + command + "'");
}
