// What a failed send means for the message and for its association (RFC 6458 sendmsg errors as
// Linux reports them). Kept apart so the rule can be read, and tested, on its own.
#pragma once

#include <cerrno>

namespace sctprelay::relay {

enum class SendErrorClass {
  RetryWhenWritable,  // EAGAIN: the association's send buffer is full; POLLOUT says when
  RetryLater,         // ENOBUFS/ENOMEM: the host is short of memory; try again shortly
  MessageTooBig,      // EMSGSIZE: larger than the socket's send buffer can ever take
  BadMessage,         // EINVAL and others: this one message cannot go (e.g. stream beyond the
                      // peer's); the association carries on with the next
  AssociationEnding,  // EPIPE/ENOTCONN/ESHUTDOWN/ECONNRESET: keep the message; the association's
                      // end (and, for a destination, the next association) is on its way
};

constexpr SendErrorClass classify_send_error(int err) {
  switch (err) {
    case EAGAIN: return SendErrorClass::RetryWhenWritable;
    case ENOBUFS:
    case ENOMEM: return SendErrorClass::RetryLater;
    case EMSGSIZE: return SendErrorClass::MessageTooBig;
    case EPIPE:
    case ENOTCONN:
    case ESHUTDOWN:
    case ECONNRESET:
    case ECONNABORTED: return SendErrorClass::AssociationEnding;
    default: return SendErrorClass::BadMessage;
  }
}

}  // namespace sctprelay::relay
