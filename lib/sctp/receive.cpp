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
// the struct on older kernels; the buffer may be unaligned for it, or empty with a null data()).
template <typename T>
T view(std::span<const uint8_t> buf) {
  T out{};
  if (!buf.empty()) std::memcpy(&out, buf.data(), std::min(buf.size(), sizeof out));
  return out;
}

// Fills `info` from the recvmsg control data (SCTP_RCVINFO, or the older SCTP_SNDRCV). `msg` is
// as recvmsg leaves it: its first cmsg_len fits within msg_controllen (the kernel truncates a
// control message that does not fit, and sets MSG_CTRUNC); CMSG_NXTHDR checks the others.
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

// Inlined into finish_notification, as it was before decode_notification() exposed it too.
[[gnu::always_inline]] inline Notification decode(std::span<const uint8_t> buf) {
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
      // snd_flags holds the DATA chunk's own flags (RFC 9260 3.3.1), not the socket API's.
      constexpr uint16_t kEnd = 0x01, kBegin = 0x02, kUnordered = 0x04;
      out.info.unordered = (n.ssfe_info.snd_flags & kUnordered) != 0;
      out.first = (n.ssfe_info.snd_flags & kBegin) != 0;
      out.last = (n.ssfe_info.snd_flags & kEnd) != 0;
      out.fragment_flags = true;
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

void read_message_info(const msghdr& msg, MessageInfo& info) { read_info(const_cast<msghdr&>(msg), info); }

Notification decode_notification(std::span<const uint8_t> buf) { return decode(buf); }

void Socket::drop_partial(sctp_assoc_t assoc) {
  auto it = partials_.find(assoc);
  if (it == partials_.end()) return;
  if (budget_) budget_->used -= it->second.data.size();
  partials_.erase(it);
}

void Socket::finish_notification(Received& out) {
  out.status = RecvStatus::Notification;
  out.notification = decode(notification_);
  notification_.clear();
  if (partials_.empty()) return;
  // The association whose message is half read is gone, or its partial delivery was aborted:
  // the rest will never come.
  if (const auto* ac = std::get_if<AssocChange>(&out.notification)) {
    if (ac->state == SCTP_COMM_LOST || ac->state == SCTP_SHUTDOWN_COMP || ac->state == SCTP_CANT_STR_ASSOC)
      drop_partial(ac->assoc);
  } else if (const auto* other = std::get_if<OtherNotification>(&out.notification)) {
    if (other->type == SCTP_PARTIAL_DELIVERY_EVENT) drop_partial(other->assoc);
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

  if (partials_.empty() && eor) {  // the common case: a whole message in one read
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
  auto it = partials_.find(info.assoc);
  if (it == partials_.end()) {
    if (eor) {  // a whole message while another association's is half read
      out.info = info;
      if (message_sources_) out.source = Address::from(from, msg.msg_namelen);
      out.status = n > max_message ? RecvStatus::Oversize : RecvStatus::Message;
      if (n <= max_message) {
        if (borrow) {
          out.payload = {data, n};
        } else {
          out.data.assign(data, data + n);
          out.payload = out.data;
        }
      }
      return true;
    }
    Partial fresh;
    fresh.info = info;
    fresh.source = Address::from(from, msg.msg_namelen);
    it = partials_.emplace(info.assoc, std::move(fresh)).first;
  }
  Partial& p = it->second;
  bool report = false;
  if (!p.discarding) {
    const std::size_t have = p.data.size();
    RecvStatus over = RecvStatus::Message;
    if (have + n > max_message)
      over = RecvStatus::Oversize;
    else if (budget_ && budget_->used + n > budget_->limit)
      over = RecvStatus::OverBudget;
    if (over != RecvStatus::Message) {
      // Reported now, once; what was read of it is let go at once and the rest never kept.
      if (budget_) budget_->used -= have;
      std::vector<uint8_t>().swap(p.data);
      p.discarding = true;
      out.status = over;
      out.info = p.info;
      out.source = p.source;
      report = true;
    } else {
      p.data.insert(p.data.end(), data, data + n);
      if (budget_) budget_->used += n;
    }
  }
  if (!eor) return report;
  if (!p.discarding) {
    out.status = RecvStatus::Message;
    out.info = p.info;
    out.source = p.source;
    if (budget_) budget_->used -= p.data.size();
    out.data.swap(p.data);  // no copy: the reassembled bytes become the message
    out.payload = out.data;
    report = true;
  }
  partials_.erase(it);
  return report;
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
  if (scratch_.size() < kChunk) scratch_.resize(kChunk);
  for (;;) {
    alignas(cmsghdr) char control[kControl];
    sockaddr_storage from;
    iovec iov;
    msghdr msg;
    prepare(msg, iov, scratch_.data(), kChunk, from, control);
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
    if (ingest(scratch_.data(), static_cast<std::size_t>(n), msg, max_message, false, out)) return;
  }
}

void Socket::receive_batch(ReceiveBatch& out, std::size_t max_message) {
  out.count = 0;
  out.drained = false;
  out.ec.clear();
  if (out.items.size() < kBatch) out.items.resize(kBatch);
  // A reassembled large message left its buffer in an item: give such memory back.
  if (out.holds_large) {
    for (auto& item : out.items)
      if (item.data.capacity() > 4 * kChunk) std::vector<uint8_t>().swap(item.data);
    out.holds_large = false;
  }
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
      Received& item = out.items[out.count];
      if (!ingest(area.buffers.get() + static_cast<std::size_t>(i) * kChunk, len, msg, max_message, true, item))
        continue;
      if (item.data.capacity() > 4 * kChunk) out.holds_large = true;
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
