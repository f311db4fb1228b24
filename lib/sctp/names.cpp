// Human-readable names of SCTP association and peer address states, for logs.
#include "sctp/socket.h"

namespace sctprelay::sctp {

const char* assoc_state_name(uint16_t state) {
  switch (state) {
    case SCTP_COMM_UP: return "COMM_UP";
    case SCTP_COMM_LOST: return "COMM_LOST";
    case SCTP_RESTART: return "RESTART";
    case SCTP_SHUTDOWN_COMP: return "SHUTDOWN_COMP";
    case SCTP_CANT_STR_ASSOC: return "CANT_STR_ASSOC";
  }
  return "UNKNOWN";
}

const char* paddr_state_name(uint32_t state) {
  switch (state) {
    case SCTP_ADDR_AVAILABLE: return "ADDR_AVAILABLE";
    case SCTP_ADDR_UNREACHABLE: return "ADDR_UNREACHABLE";
    case SCTP_ADDR_REMOVED: return "ADDR_REMOVED";
    case SCTP_ADDR_ADDED: return "ADDR_ADDED";
    case SCTP_ADDR_MADE_PRIM: return "ADDR_MADE_PRIM";
    case SCTP_ADDR_CONFIRMED: return "ADDR_CONFIRMED";
    case SCTP_ADDR_POTENTIALLY_FAILED: return "ADDR_POTENTIALLY_FAILED";
  }
  return "UNKNOWN";
}

const char* association_state_name(int32_t state) {
  switch (state) {
    case SCTP_EMPTY: return "EMPTY";
    case SCTP_CLOSED: return "CLOSED";
    case SCTP_COOKIE_WAIT: return "COOKIE_WAIT";
    case SCTP_COOKIE_ECHOED: return "COOKIE_ECHOED";
    case SCTP_ESTABLISHED: return "ESTABLISHED";
    case SCTP_SHUTDOWN_PENDING: return "SHUTDOWN_PENDING";
    case SCTP_SHUTDOWN_SENT: return "SHUTDOWN_SENT";
    case SCTP_SHUTDOWN_RECEIVED: return "SHUTDOWN_RECEIVED";
    case SCTP_SHUTDOWN_ACK_SENT: return "SHUTDOWN_ACK_SENT";
  }
  return "UNKNOWN";
}

const char* path_state_name(int32_t state) {
  switch (state) {
    case SCTP_ACTIVE: return "active";
    case SCTP_INACTIVE: return "inactive";
    case SCTP_PF: return "potentially-failed";
    case SCTP_UNCONFIRMED: return "unconfirmed";
  }
  return "unknown";
}

}  // namespace sctprelay::sctp
