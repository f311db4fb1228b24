// Fuzz target: the receive path's parsing, fed reads as recvmsg would hand them over, with no
// socket and no kernel. Each input is a script of reads into one never-opened Socket:
//
//   byte 0       limits: bits 0-1 the maximum message size (8, 64, 1024, 64 KiB), bits 2-3 the
//                shared reassembly budget (none, 16, 256 bytes, 1 MiB)
//   then, per read:
//     op         bit 0 MSG_EOR, bit 1 MSG_NOTIFICATION, bit 2 borrow (receive_batch's view),
//                bits 3-4 control data: SCTP_RCVINFO / an IP cmsg then SCTP_SNDRCV / none / raw
//                bytes, bits 5-6 sender: none / IPv4 / IPv6 / raw sockaddr bytes, bit 7 move the
//                Socket to another and back first (partial messages move with it)
//     assoc      association id of the built control data (0-3, so that messages interleave)
//     fields     what the control data and sender take (see read_control, read_sender)
//     length     one byte; 255: two more bytes (little-endian) give it
//     payload    that many bytes (fewer at the end of the input)
//
// Besides crashes and sanitizer reports it checks what the reassembly promises: a message comes
// out exactly as the concatenation of its pieces, oversize or over-budget is reported once per
// message and nothing of it comes out after, the budget accounts exactly for what partial messages
// hold and never exceeds its limit, and all of it is given back when the socket goes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <variant>
#include <vector>

#include "byte_reader.h"
#include "sctp/socket.h"

namespace {

using sctprelay::fuzz::ByteReader;
using sctprelay::fuzz::check;
namespace sctp = sctprelay::sctp;

constexpr std::size_t kMaxMessage[] = {8, 64, 1024, 64 * 1024};
constexpr std::size_t kBudget[] = {0, 16, 256, 1 << 20};  // 0: no budget shared
constexpr std::size_t kControlSpace = 256;

// Control data as the kernel lays it out; returns msg_controllen.
std::size_t read_control(ByteReader& in, unsigned kind, sctp_assoc_t assoc, unsigned char* control) {
  msghdr m{};
  m.msg_control = control;
  m.msg_controllen = kControlSpace;
  cmsghdr* c = CMSG_FIRSTHDR(&m);
  switch (kind) {
    case 0: {  // what SCTP_RECVRCVINFO gives
      sctp_rcvinfo rcv{};
      rcv.rcv_sid = in.u16();
      rcv.rcv_flags = in.u16();
      rcv.rcv_ppid = in.u32();
      rcv.rcv_context = in.u32();
      rcv.rcv_assoc_id = assoc;
      c->cmsg_level = IPPROTO_SCTP;
      c->cmsg_type = SCTP_RCVINFO;
      c->cmsg_len = CMSG_LEN(sizeof rcv);
      std::memcpy(CMSG_DATA(c), &rcv, sizeof rcv);
      return CMSG_SPACE(sizeof rcv);
    }
    case 1: {  // another level's control message first, then the older SCTP_SNDRCV
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_TOS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      c = CMSG_NXTHDR(&m, c);
      sctp_sndrcvinfo sri{};
      sri.sinfo_stream = in.u16();
      sri.sinfo_flags = in.u16();
      sri.sinfo_ppid = in.u32();
      sri.sinfo_context = in.u32();
      sri.sinfo_assoc_id = assoc;
      c->cmsg_level = IPPROTO_SCTP;
      c->cmsg_type = SCTP_SNDRCV;
      c->cmsg_len = CMSG_LEN(sizeof sri);
      std::memcpy(CMSG_DATA(c), &sri, sizeof sri);
      return CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof sri);
    }
    case 2:
      return 0;
    default: {  // any bytes, the first header's length kept within them as the kernel does
      std::size_t len = std::min<std::size_t>(in.u8(), kControlSpace);
      in.fill(control, len);
      if (len >= sizeof(cmsghdr)) {
        auto* first = reinterpret_cast<cmsghdr*>(control);
        if (first->cmsg_len > len) first->cmsg_len = len;
      }
      return len;
    }
  }
}

// The sender's address; returns msg_namelen.
socklen_t read_sender(ByteReader& in, unsigned kind, sockaddr_storage& name) {
  name = sockaddr_storage{};
  switch (kind) {
    case 0:
      return 0;
    case 1: {
      auto* in4 = reinterpret_cast<sockaddr_in*>(&name);
      in4->sin_family = AF_INET;
      in4->sin_port = in.u16();
      in4->sin_addr.s_addr = in.u32();
      return sizeof(sockaddr_in);
    }
    case 2: {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&name);
      in6->sin6_family = AF_INET6;
      in6->sin6_port = in.u16();
      in.fill(&in6->sin6_addr, sizeof in6->sin6_addr);
      in6->sin6_scope_id = in.u8();  // small, as interface indexes are
      return sizeof(sockaddr_in6);
    }
    default: {
      socklen_t len = in.u8();
      in.fill(&name, std::min<std::size_t>(len, sizeof name));
      return len;
    }
  }
}

// What the logs would print of a received item: runs the printing paths on decoded values.
void describe(const sctp::Received& r) {
  (void)r.source.to_string();
  if (r.status != sctp::RecvStatus::Notification) return;
  if (const auto* ac = std::get_if<sctp::AssocChange>(&r.notification)) (void)sctp::assoc_state_name(ac->state);
  if (const auto* pc = std::get_if<sctp::PeerAddrChange>(&r.notification)) {
    (void)pc->address.to_string();
    (void)sctp::paddr_state_name(pc->state);
  }
}

// Partial messages as the reassembly should hold them: per association, every byte since its
// last MSG_EOR, and whether the message was already reported over a limit.
struct Expected {
  std::vector<uint8_t> bytes;
  bool reported = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  ByteReader in(data, size);
  const uint8_t limits = in.u8();
  const std::size_t max_message = kMaxMessage[limits & 3];
  sctp::ReassemblyBudget budget;
  budget.limit = kBudget[(limits >> 2) & 3];
  const bool budgeted = budget.limit != 0;

  std::map<sctp_assoc_t, Expected> expected;
  std::vector<uint8_t> notification;  // bytes of a notification read so far
  {
    sctp::Socket socket;
    if (budgeted) socket.set_reassembly_budget(&budget);
    sctp::Received out;
    while (!in.empty()) {
      const uint8_t op = in.u8();
      const bool eor = op & 1, is_notification = op & 2, borrow = op & 4;
      const unsigned control_kind = (op >> 3) & 3, sender_kind = (op >> 5) & 3;
      if (op & 0x80) {
        sctp::Socket moved(std::move(socket));
        socket = std::move(moved);
      }
      const auto assoc = static_cast<sctp_assoc_t>(in.u8() & 3);
      alignas(cmsghdr) unsigned char control[kControlSpace] = {};
      sockaddr_storage name;
      msghdr msg{};
      msg.msg_control = control;
      msg.msg_controllen = read_control(in, control_kind, assoc, control);
      msg.msg_name = &name;
      msg.msg_namelen = read_sender(in, sender_kind, name);
      msg.msg_flags = (eor ? MSG_EOR : 0) | (is_notification ? MSG_NOTIFICATION : 0);
      std::size_t length = in.u8();
      if (length == 255) length = in.u16();
      const auto payload = in.bytes(length);
      // A copy of its own, so that ASan sees any read past what the "kernel" handed over.
      std::vector<uint8_t> read(payload.begin(), payload.end());

      const bool done = socket.ingest(read.data(), read.size(), msg, max_message, borrow, out);

      if (is_notification) {
        notification.insert(notification.end(), read.begin(), read.end());
        check(done == eor, "a notification is finished exactly at MSG_EOR");
        if (done) {
          check(out.status == sctp::RecvStatus::Notification, "a finished notification is reported as one");
          // A notification that ends an association (or its partial delivery) ends its partial message.
          sctp_assoc_t ended = -1;
          if (const auto* ac = std::get_if<sctp::AssocChange>(&out.notification)) {
            if (ac->state == SCTP_COMM_LOST || ac->state == SCTP_SHUTDOWN_COMP || ac->state == SCTP_CANT_STR_ASSOC)
              ended = ac->assoc;
          } else if (const auto* o = std::get_if<sctp::OtherNotification>(&out.notification)) {
            if (o->type == SCTP_PARTIAL_DELIVERY_EVENT) ended = o->assoc;
          }
          if (ended != -1) expected.erase(ended);
          // The socket decodes exactly what decode_notification() does with the same bytes.
          check(sctp::decode_notification(notification).index() == out.notification.index(),
                "the same notification bytes decode to the same type");
          notification.clear();
          describe(out);
        }
      } else {
        sctp::MessageInfo info;
        sctp::read_message_info(msg, info);
        Expected& e = expected[info.assoc];
        e.bytes.insert(e.bytes.end(), read.begin(), read.end());
        if (done) {
          check(out.info.assoc == info.assoc, "an item names the association of the read that finished it");
          switch (out.status) {
            case sctp::RecvStatus::Message:
              check(eor, "a message is finished only at MSG_EOR");
              check(!e.reported, "nothing of a message reported over a limit comes out");
              check(out.payload.size() == e.bytes.size() &&
                        std::equal(e.bytes.begin(), e.bytes.end(), out.payload.begin()),
                    "a message is exactly the concatenation of its pieces");
              check(out.payload.size() <= max_message, "no message is larger than the maximum");
              break;
            case sctp::RecvStatus::Oversize:
              check(e.bytes.size() > max_message, "Oversize only beyond the maximum");
              [[fallthrough]];
            case sctp::RecvStatus::OverBudget:
              check(!e.reported, "a message over a limit is reported once");
              e.reported = true;
              break;
            default:
              check(false, "a read of data finishes a message or reports it over a limit");
          }
          describe(out);
        } else {
          check(!eor || e.reported, "MSG_EOR finishes a message unless it was reported over a limit");
        }
        if (eor) expected.erase(info.assoc);
        if (out.status == sctp::RecvStatus::OverBudget) check(budgeted, "OverBudget only with a budget");
      }
      if (budgeted) {
        std::size_t held = 0;
        for (const auto& [_, e] : expected)
          if (!e.reported) held += e.bytes.size();
        check(budget.used == held, "the budget counts exactly the bytes partial messages hold");
        check(budget.used <= budget.limit, "the budget is never exceeded");
      }
    }
  }
  check(budget.used == 0, "a closed socket gives all of its budget back");
  return 0;
}
