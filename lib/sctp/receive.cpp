// Socket::receive: recvmsg with SCTP_RCVINFO, reassembly of partial reads up to MSG_EOR,
// oversize discard, and decoding of notifications.
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <memory>

#include "sctp/socket.h"

namespace sctprelay::sctp {
namespace {

constexpr std::size_t kChunk = 64 * 1024;  // bytes asked of each recvmsg

// Copies the start of a byte buffer into a zeroed struct (notifications may be shorter than
// the struct on older kernels; the buffer may be unaligned for it).
template <typename T>
T view(const std::vector<uint8_t>& buf) {
  T out{};
  std::memcpy(&out, buf.data(), std::min(buf.size(), sizeof out));
  return out;
}

// Fills `info` from the recvmsg control data (SCTP_RCVINFO, or the older SCTP_SNDRCV).
void read_info(msghdr& msg, MessageInfo& info) {
  // The usual case: the one control message asked for (SCTP_RECVRCVINFO), first.
  cmsghdr* first = CMSG_FIRSTHDR(&msg);
  if (first && first->cmsg_level == IPPROTO_SCTP && first->cmsg_type == SCTP_RCVINFO &&
      first->cmsg_len >= CMSG_LEN(sizeof(sctp_rcvinfo))) {
    const auto* rcv = reinterpret_cast<const sctp_rcvinfo*>(CMSG_DATA(first));
    info.assoc = rcv->rcv_assoc_id;
    info.stream = rcv->rcv_sid;
    info.ppid = ntohl(rcv->rcv_ppid);
    info.unordered = (rcv->rcv_flags & SCTP_UNORDERED) != 0;
    info.context = rcv->rcv_context;
    return;
  }
  info = MessageInfo{};
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != IPPROTO_SCTP) continue;
    if (c->cmsg_type == SCTP_RCVINFO && c->cmsg_len >= CMSG_LEN(sizeof(sctp_rcvinfo))) {
      sctp_rcvinfo rcv;
      std::memcpy(&rcv, CMSG_DATA(c), sizeof rcv);
      info.assoc = rcv.rcv_assoc_id;
      info.stream = rcv.rcv_sid;
      info.ppid = ntohl(rcv.rcv_ppid);
      info.unordered = (rcv.rcv_flags & SCTP_UNORDERED) != 0;
      info.context = rcv.rcv_context;
      return;  // the one the relay asks for; nothing else to look at
    } else if (c->cmsg_type == SCTP_SNDRCV && c->cmsg_len >= CMSG_LEN(sizeof(sctp_sndrcvinfo))) {
      sctp_sndrcvinfo sri;
      std::memcpy(&sri, CMSG_DATA(c), sizeof sri);
      info.assoc = sri.sinfo_assoc_id;
      info.stream = sri.sinfo_stream;
      info.ppid = ntohl(sri.sinfo_ppid);
      info.unordered = (sri.sinfo_flags & SCTP_UNORDERED) != 0;
      info.context = sri.sinfo_context;
    }
  }
}

Notification decode(const std::vector<uint8_t>& buf) {
  auto header = view<sctp_notification>(buf).sn_header;
  switch (header.sn_type) {
    case SCTP_ASSOC_CHANGE: {
      auto n = view<sctp_assoc_change>(buf);
      return AssocChange{n.sac_assoc_id, n.sac_state, n.sac_error, n.sac_outbound_streams,
                         n.sac_inbound_streams};
    }
    case SCTP_PEER_ADDR_CHANGE: {
      auto n = view<sctp_paddr_change>(buf);
      return PeerAddrChange{n.spc_assoc_id,
                            Address::from(reinterpret_cast<const sockaddr*>(&n.spc_aaddr),
                                          sizeof n.spc_aaddr),
                            uint32_t(n.spc_state), uint32_t(n.spc_error)};
    }
    case SCTP_SEND_FAILED_EVENT: {
      auto n = view<sctp_send_failed_event>(buf);
      SendFailed out{n.ssf_assoc_id, n.ssf_flags, n.ssf_error, {}, {}};
      out.info.assoc = n.ssf_assoc_id;
      out.info.stream = n.ssfe_info.snd_sid;
      out.info.ppid = ntohl(n.ssfe_info.snd_ppid);  // as sent: network order
      out.info.unordered = (n.ssfe_info.snd_flags & SCTP_UNORDERED) != 0;
      out.info.context = n.ssfe_info.snd_context;
      std::size_t end = std::min<std::size_t>(buf.size(), n.ssf_length);
      if (end > sizeof n) out.data.assign(buf.begin() + sizeof n, buf.begin() + end);
      return out;
    }
    case SCTP_SEND_FAILED: {
      auto n = view<sctp_send_failed>(buf);
      SendFailed out{n.ssf_assoc_id, n.ssf_flags, n.ssf_error, {}, {}};
      out.info.assoc = n.ssf_assoc_id;
      out.info.stream = n.ssf_info.sinfo_stream;
      out.info.ppid = ntohl(n.ssf_info.sinfo_ppid);
      out.info.unordered = (n.ssf_info.sinfo_flags & SCTP_UNORDERED) != 0;
      out.info.context = n.ssf_info.sinfo_context;
      std::size_t end = std::min<std::size_t>(buf.size(), n.ssf_length);
      if (end > sizeof n) out.data.assign(buf.begin() + sizeof n, buf.begin() + end);
      return out;
    }
    case SCTP_SHUTDOWN_EVENT:
      return ShutdownEvent{view<sctp_shutdown_event>(buf).sse_assoc_id};
    case SCTP_SENDER_DRY_EVENT:
      return SenderDry{view<sctp_sender_dry_event>(buf).sender_dry_assoc_id};
    case SCTP_PARTIAL_DELIVERY_EVENT:
      return OtherNotification{header.sn_type, view<sctp_pdapi_event>(buf).pdapi_assoc_id};
    case SCTP_REMOTE_ERROR:
      return OtherNotification{header.sn_type, view<sctp_remote_error>(buf).sre_assoc_id};
    case SCTP_ADAPTATION_INDICATION:
      return OtherNotification{header.sn_type, view<sctp_adaptation_event>(buf).sai_assoc_id};
    default:
      return OtherNotification{header.sn_type, 0};
  }
}

}  // namespace

void Socket::drop_partial() {
  partial_active_ = false;
  discarding_ = false;
  partial_len_ = 0;
}

void Socket::finish_notification(Received& out) {
  out.status = RecvStatus::Notification;
  out.notification = decode(notification_);
  notification_.clear();
  if (!partial_active_) return;
  // The association whose message is half read is gone, or its partial delivery was aborted:
  // the rest will never come.
  if (const auto* ac = std::get_if<AssocChange>(&out.notification)) {
    if (ac->assoc == partial_info_.assoc &&
        (ac->state == SCTP_COMM_LOST || ac->state == SCTP_SHUTDOWN_COMP))
      drop_partial();
  } else if (const auto* other = std::get_if<OtherNotification>(&out.notification)) {
    if (other->type == SCTP_PARTIAL_DELIVERY_EVENT) drop_partial();
  }
}

bool Socket::ingest(const uint8_t* data, std::size_t n, const msghdr& msg, std::size_t max_message,
                    bool borrow, Received& out) {
  const bool eor = (msg.msg_flags & MSG_EOR) != 0;
  const auto* from = static_cast<const sockaddr*>(msg.msg_name);
  if (msg.msg_flags & MSG_NOTIFICATION) {
    notification_.insert(notification_.end(), data, data + n);
    if (!eor) return false;
    // The kernel names the association's peer here too; useful when the association is already gone.
    out.source = Address::from(from, msg.msg_namelen);
    finish_notification(out);
    return true;
  }

  if (!partial_active_ && eor) {  // the common case: a whole message in one read, copied straight out
    read_info(const_cast<msghdr&>(msg), out.info);
    if (message_sources_) out.source = Address::from(from, msg.msg_namelen);
    if (n > max_message) {
      out.status = RecvStatus::Oversize;
    } else if (borrow) {
      out.status = RecvStatus::Message;
      out.payload = {data, n};
    } else {
      out.status = RecvStatus::Message;
      // `out.data` keeps its capacity across calls: this allocates only for a new largest size.
      out.data.assign(data, data + n);
      out.payload = out.data;
    }
    return true;
  }

  MessageInfo info;
  read_info(const_cast<msghdr&>(msg), info);
  // A different association's message: the half-read one was abandoned (its association ended).
  if (partial_active_ && info.assoc != partial_info_.assoc) drop_partial();
  if (!partial_active_) {
    if (eor) {  // a whole message, after a different association's abandoned piece
      out.info = info;
      if (message_sources_) out.source = Address::from(from, msg.msg_namelen);
      out.status = n > max_message ? RecvStatus::Oversize : RecvStatus::Message;
      if (n <= max_message) out.data.assign(data, data + n);
      out.payload = out.data;
      return true;
    }
    partial_active_ = true;
    partial_info_ = info;
    partial_source_ = Address::from(from, msg.msg_namelen);
    partial_len_ = 0;
  }
  if (!discarding_) {
    if (partial_len_ + n > max_message) {
      discarding_ = true;
      partial_len_ = 0;
    } else {
      if (partial_.size() < partial_len_ + n) partial_.resize(partial_len_ + n);
      // receive() reads straight into place; a batch read must be copied in.
      if (data != partial_.data() + partial_len_) std::memmove(partial_.data() + partial_len_, data, n);
      partial_len_ += n;
    }
  }
  if (!eor) return false;

  out.info = partial_info_;
  out.source = partial_source_;
  if (discarding_) {
    out.status = RecvStatus::Oversize;
  } else {
    out.status = RecvStatus::Message;
    out.data.assign(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(partial_len_));
    out.payload = out.data;
  }
  drop_partial();
  return true;
}

namespace {

// Control space for one read: SCTP_RCVINFO, or the older SCTP_SNDRCV.
constexpr std::size_t kControl = CMSG_SPACE(sizeof(sctp_rcvinfo)) + CMSG_SPACE(sizeof(sctp_sndrcvinfo));

void prepare(msghdr& msg, iovec& iov, uint8_t* buf, std::size_t len, sockaddr_storage& from, char* control) {
  iov = iovec{buf, len};
  msg = msghdr{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = kControl;
}

// Scratch space for recvmmsg, shared by every socket of the thread (one read at a time). The
// headers point at their buffers once; a call only resets what the kernel writes back.
struct BatchArea {
  // Not zero-filled: pages the kernel never writes into are never touched (no resident memory).
  std::unique_ptr<uint8_t[]> buffers{new uint8_t[Socket::kBatch * kChunk]};
  mmsghdr msgs[Socket::kBatch];
  iovec iovs[Socket::kBatch];
  sockaddr_storage names[Socket::kBatch];
  alignas(cmsghdr) char controls[Socket::kBatch][kControl];

  BatchArea() {
    for (std::size_t i = 0; i < Socket::kBatch; ++i)
      prepare(msgs[i].msg_hdr, iovs[i], buffers.get() + i * kChunk, kChunk, names[i], controls[i]);
  }
  void reset() {
    for (auto& m : msgs) {
      m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      m.msg_hdr.msg_controllen = kControl;
      m.msg_hdr.msg_flags = 0;
      m.msg_len = 0;
    }
  }
};

BatchArea& batch_area() {
  thread_local BatchArea area;
  return area;
}

}  // namespace

void Socket::receive(Received& out, std::size_t max_message) {
  out.ec.clear();
  for (;;) {
    // New bytes land after the message so far (or over the scratch area while discarding), so a
    // long message is reassembled without copying.
    std::size_t base = (partial_active_ && !discarding_) ? partial_len_ : 0;
    if (partial_.size() < base + kChunk) partial_.resize(base + kChunk);
    alignas(cmsghdr) char control[kControl];
    sockaddr_storage from;
    iovec iov;
    msghdr msg;
    prepare(msg, iov, partial_.data() + base, kChunk, from, control);
    ssize_t n = ::recvmsg(fd(), &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        out.status = RecvStatus::WouldBlock;
      } else {
        out.status = RecvStatus::Error;
        out.ec = {errno, std::generic_category()};
      }
      return;
    }
    if (n == 0 && msg.msg_flags == 0) {  // nothing meaningful (socket shut down)
      out.status = RecvStatus::WouldBlock;
      return;
    }
    if (ingest(partial_.data() + base, static_cast<std::size_t>(n), msg, max_message, false, out)) return;
  }
}

void Socket::receive_batch(ReceiveBatch& out, std::size_t max_message) {
  out.count = 0;
  out.drained = false;
  out.ec.clear();
  if (out.items.size() < kBatch) out.items.resize(kBatch);
  BatchArea& area = batch_area();
  for (;;) {
    area.reset();
    int n = ::recvmmsg(fd(), area.msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      out.drained = true;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        out.status = RecvStatus::WouldBlock;
      } else {
        out.status = RecvStatus::Error;
        out.ec = {errno, std::generic_category()};
      }
      return;
    }
    // Fewer than asked: the socket ran dry (or hit an error it reports next time).
    out.drained = static_cast<std::size_t>(n) < kBatch;
    for (int i = 0; i < n; ++i) {
      const msghdr& msg = area.msgs[i].msg_hdr;
      std::size_t len = area.msgs[i].msg_len;
      if (len == 0 && msg.msg_flags == 0) continue;
      if (ingest(area.buffers.get() + static_cast<std::size_t>(i) * kChunk, len, msg, max_message, true,
                 out.items[out.count]))
        ++out.count;
    }
    // Only pieces of a long message came in: read on, so the caller always gets something
    // (unless the socket is dry).
    if (out.count > 0 || out.drained) {
      out.status = out.count > 0 ? RecvStatus::Message : RecvStatus::WouldBlock;
      return;
    }
  }
}

}  // namespace sctprelay::sctp
