// sctprelay-client: sends test messages to an SCTP peer and listens for them (docs/client.md,
// sctprelay-client(1)).
#include <signal.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "commands.h"
#include "exit_codes.h"
#include "options.h"
#include "util/log.h"

int main(int argc, char** argv) {
  using namespace sctprelay::client;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  sctprelay::log::set_timestamps(true);  // a terminal tool: "hh:mm:ss.mmm error: ..." on stderr
  try {
    SendOptions send;
    ListenOptions listen;
    const ParseResult parsed = parse_command_line(std::vector<std::string>(argv + 1, argv + argc), send, listen);
    switch (parsed.status) {
      case ParseResult::Status::Help:
        std::fputs(parsed.text.c_str(), stdout);
        return kExitOk;
      case ParseResult::Status::UsageError:
        std::fprintf(stderr, "sctprelay-client: %s\n%s", parsed.text.c_str(), usage_hint(parsed.command).c_str());
        return kExitUsage;
      case ParseResult::Status::Run: break;
    }
    return parsed.command == Command::Send ? run_send(send) : run_listen(listen);
  } catch (const std::exception& e) {
    LOG_ERROR("%s", e.what());
    return kExitNetwork;
  }
}
