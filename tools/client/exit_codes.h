// Exit statuses of sctprelay-client (documented in docs/client.md).
#pragma once

namespace sctprelay::client {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,     // bad command line
  kExitNetwork = 2,   // socket/bind/connect failure, association refused or lost
  kExitTimeout = 3,   // --timeout ran out waiting (replies, --count messages, shutdown)
  kExitMismatch = 4,  // --verify found a payload that is not what was sent
};

}  // namespace sctprelay::client
