// Output records for SCTP notifications, shared by both subcommands.
#pragma once

#include "output.h"
#include "sctp/socket.h"

namespace sctprelay::client {

// Prints one notification (up/down/shutdown/paddr/send_failed); `sock` supplies the peer
// addresses of a new association. Sender-dry and unknown notifications print nothing.
void emit_notification(const sctp::Socket& sock, const sctp::Notification& n, bool json);

}  // namespace sctprelay::client
