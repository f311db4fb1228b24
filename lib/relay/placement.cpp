#include "relay/placement.h"

namespace sctprelay::relay {

sctp::Received owned_copy(const sctp::Received& item) {
  sctp::Received copy;
  copy.status = item.status;
  copy.info = item.info;
  copy.data.assign(item.payload.begin(), item.payload.end());
  copy.notification = item.notification;
  copy.ec = item.ec;
  copy.source = item.source;
  return copy;
}

}  // namespace sctprelay::relay
