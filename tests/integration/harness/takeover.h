// Taking over another process's SCTP socket, to account exactly for what a killed process had been
// given.
//
// SCTP acknowledges data once it is in the receiver's kernel, not once the application has read it.
// When a destination process is killed, the messages waiting unread in its socket were acknowledged
// to the relay and are lost to everyone: no relay can send them again. A test that wants to say
// "every message arrived somewhere" takes a duplicate of the process's socket (pidfd_getfd) before
// killing it, ABORTs the associations itself (as the kernel would at the close of a socket with
// unread data) and reads those messages: they count as delivered to the killed process.
#pragma once

#include <sys/types.h>

#include <vector>

#include "harness/deadline.h"
#include "harness/peer.h"
#include "util/unique_fd.h"

namespace harness {

class TakenSocket {
 public:
  // A duplicate of the one SCTP socket of process `pid` (needs root or ptrace rights; the process
  // may be stopped). Throws if it has none or several. The socket stops accepting associations
  // (its existing ones stay), so once the process is gone nobody new connects to a socket that is
  // about to be closed.
  static TakenSocket from_process(pid_t pid);

  // ABORTs every association of the socket and reads every whole message still queued on it, up
  // to each association's COMM_LOST; then closes it. Data that arrives after the ABORT is refused
  // by the kernel, so the sender learns of it (SEND_FAILED). A message only partly there when the
  // association ended is not returned (nobody could have read it whole).
  std::vector<Msg> abort_and_drain(Deadline d = soon());

  int fd() const { return fd_.get(); }

 private:
  sctprelay::UniqueFd fd_;
};

}  // namespace harness
