// Exit statuses of sctprelayctl (documented in docs/man/sctprelayctl.8 and --help).
#pragma once

namespace sctprelay::ctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitNotOk = 1,        // the daemon answered "ok": false (or an answer sctprelayctl cannot read)
  kExitUsage = 2,        // bad command line
  kExitUnreachable = 3,  // no socket, no permission, nobody listening, no answer in time
  kExitWaitTimeout = 4,  // drain --wait: the queue did not empty within its --timeout
};

}  // namespace sctprelay::ctl
