// The SCTP socket layer: one-to-many (SOCK_SEQPACKET) sockets over the RFC 6458 API.
// Nonblocking throughout; every call reports errors through std::error_code (errno).
// Knows nothing of routing, config or the event loop.
#pragma once

#include <netinet/in.h>
#include <netinet/sctp.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <variant>
#include <vector>

#include "util/unique_fd.h"

namespace sctprelay::sctp {

// One socket address (IPv4 or IPv6) with port.
struct Address {
  sockaddr_storage storage{};

  int family() const { return storage.ss_family; }
  uint16_t port() const;
  socklen_t length() const;
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
  // "127.0.0.1:3868", "[::1]:3868"
  std::string to_string() const;
  // The address alone, no port: "127.0.0.1", "::1".
  std::string host() const;
  // Numeric parse only (no DNS); false on a malformed address.
  static bool parse(const std::string& host, uint16_t port, Address& out);
  static Address from(const sockaddr* sa, socklen_t len);
  bool operator==(const Address& o) const;
};

// Parses every host with the port; on failure `ec` is EINVAL and `bad` names the host.
std::vector<Address> parse_addresses(const std::vector<std::string>& hosts, uint16_t port,
                                     std::error_code& ec, std::string* bad = nullptr);

// The socket family for a set of addresses: AF_INET when all are IPv4 (or the list is empty),
// AF_INET6 otherwise (an AF_INET6 socket also carries the IPv4 ones).
int family_for(const std::vector<Address>& addrs);

struct SocketOptions {
  uint16_t out_streams = 16;   // SCTP_INITMSG
  uint16_t in_streams = 16;
  bool nodelay = true;         // SCTP_NODELAY: small messages must not wait for Nagle
  uint32_t sack_freq = 1;      // SCTP_DELAYED_SACK: sack every packet...
  uint32_t sack_delay_ms = 10; // ...or after this delay
  int rcvbuf = 1 << 20;        // SO_RCVBUF (bytes; 0 = kernel default)
  int sndbuf = 1 << 20;        // SO_SNDBUF (bytes; 0 = kernel default)
  // SCTP_SENDER_DRY_EVENT from the start. It fires each time an association's send queue empties,
  // which under steady traffic is once per message: a relay turns it on only when it needs it
  // (watch_sender_dry) and saves a notification read per message.
  bool sender_dry_events = true;
  // Fill Received::source for messages (notifications always get it). A relay that knows its
  // associations by id can skip the copy.
  bool message_sources = true;
  // SCTP_FRAGMENT_INTERLEAVE level 1: while one association of a one-to-many socket is in partial
  // delivery (a message larger than the receive window), the others' messages and notifications
  // still come through instead of waiting behind it. Reassembly is kept per association.
  bool fragment_interleave = true;
  // SO_REUSEADDR: a listener can be bound again while associations peeled off it still hold
  // its port (never while another listening socket has the address).
  bool reuse_address = false;
  // SO_REUSEPORT: several sockets (the daemon's workers) listen on one address and port; the
  // kernel gives each new association to one of them (Linux 5.0+ for SCTP).
  bool reuse_port = false;
};

// One budget for every message being reassembled, shared by all the sockets that point at it:
// a message whose pieces would take `used` beyond `limit` is discarded (RecvStatus::OverBudget).
struct ReassemblyBudget {
  std::size_t limit = 64u << 20;
  std::size_t used = 0;
};

// Metadata of a received or sent message (RFC 6458 SCTP_RCVINFO / SCTP_SNDINFO).
struct MessageInfo {
  sctp_assoc_t assoc = 0;
  uint16_t stream = 0;
  uint32_t ppid = 0;      // host byte order (converted at the socket edge)
  bool unordered = false;
  uint32_t context = 0;
};

// Notifications the layer subscribes to (SCTP_EVENT) and decodes.
struct AssocChange {
  sctp_assoc_t assoc;
  uint16_t state;  // SCTP_COMM_UP, SCTP_COMM_LOST, SCTP_RESTART, SCTP_SHUTDOWN_COMP, SCTP_CANT_STR_ASSOC
  uint16_t error;
  uint16_t outbound_streams;
  uint16_t inbound_streams;
};
struct PeerAddrChange {
  sctp_assoc_t assoc;
  Address address;
  uint32_t state;  // SCTP_ADDR_AVAILABLE, SCTP_ADDR_UNREACHABLE, SCTP_ADDR_CONFIRMED, ...
  uint32_t error;
};
// The kernel hands back one of these per DATA chunk of a message it could not deliver: a message
// larger than the path MTU comes back in pieces, `first`/`last` marking its ends (the chunk's B/E
// flags; both true for an unfragmented message). `info.context` is the context it was sent with.
struct SendFailed {
  sctp_assoc_t assoc;
  uint32_t flags;  // SCTP_DATA_UNSENT or SCTP_DATA_SENT (this chunk was transmitted at least once)
  uint32_t error;
  MessageInfo info;            // stream, ppid (host order), unordered, context of the failed message
  std::vector<uint8_t> data;   // this chunk's payload
  bool first = true;           // the message's first piece (B flag)
  bool last = true;            // the message's last piece (E flag)
  bool fragment_flags = false; // first/last come from the chunk (SCTP_SEND_FAILED_EVENT); else unknown
};
struct ShutdownEvent { sctp_assoc_t assoc; };
struct SenderDry { sctp_assoc_t assoc; };
struct OtherNotification { uint16_t type; sctp_assoc_t assoc; };
using Notification =
    std::variant<AssocChange, PeerAddrChange, SendFailed, ShutdownEvent, SenderDry, OtherNotification>;

// What recvmsg hands back, parsed without a socket: Socket's receiving uses these, and so can a
// test or fuzzer that feeds bytes of its own (fuzz/receive_fuzz.cpp).
// The message's metadata from `msg`'s control data (SCTP_RCVINFO, or the older SCTP_SNDRCV; all
// zero without either), `msg` being as recvmsg fills it: a cmsg_len never runs past
// msg_controllen (the kernel truncates a control message that does not fit and sets MSG_CTRUNC).
void read_message_info(const msghdr& msg, MessageInfo& info);
// One whole notification (the bytes read up to MSG_EOR). Any bytes decode: a buffer shorter than
// its type's struct reads as zeros past its end, and a SEND_FAILED's data is cut at the buffer.
Notification decode_notification(std::span<const uint8_t> buf);

enum class RecvStatus {
  Message,       // `data`/`info` hold one whole message (MSG_EOR seen)
  Notification,  // `notification` holds a decoded notification
  WouldBlock,    // nothing (more) to read now
  Oversize,      // a message grew beyond the maximum: reported once, when it does (info set); the
                 // rest of it is discarded as it is read, never held
  OverBudget,    // a message being reassembled would exceed the shared ReassemblyBudget: reported
                 // once, then discarded like an oversize one
  Error,         // ec set
};

// Reusable receive buffer: reading into it allocates only when a larger message than any before arrives.
struct Received {
  RecvStatus status = RecvStatus::WouldBlock;
  MessageInfo info;
  // The payload. receive() copies it into `data`; receive_batch() may instead point `payload` at
  // its own read buffer (valid until the next receive_batch() on any socket), sparing a copy.
  std::vector<uint8_t> data;
  std::span<const uint8_t> payload;
  Notification notification;
  std::error_code ec;
  Address source;  // sender's address of a Message/Oversize (recvmsg's msg_name)
};

enum class SendStatus { Sent, WouldBlock, Error };

// Several items read with one recvmmsg: items[0, count) hold messages, notifications or Oversize
// reports, in order. `drained` says the socket had nothing more (no need to ask again now).
struct ReceiveBatch {
  std::vector<Received> items;
  std::size_t count = 0;
  bool drained = false;
  RecvStatus status = RecvStatus::WouldBlock;  // when count is 0: WouldBlock or Error
  std::error_code ec;
  bool holds_large = false;  // an item kept a reassembled large message's buffer (freed next call)
};

// One message for send_batch.
struct OutMessage {
  MessageInfo info;
  const uint8_t* data = nullptr;
  std::size_t len = 0;
};

// One path (peer address) of an association: SCTP_GET_PEER_ADDR_INFO.
struct PathInfo {
  Address address;
  int32_t state = -1;   // SCTP_ACTIVE, SCTP_INACTIVE, SCTP_PF, SCTP_UNCONFIRMED, SCTP_UNKNOWN
  uint32_t srtt_ms = 0, rto_ms = 0, cwnd = 0, mtu = 0;
};

// What the kernel says of one association: SCTP_STATUS, each path, SCTP_GET_ASSOC_STATS.
struct AssociationInfo {
  int32_t state = 0;    // SCTP_ESTABLISHED, ...
  uint16_t in_streams = 0, out_streams = 0;
  uint32_t peer_rwnd = 0;
  uint16_t unacked = 0, pending = 0;
  uint32_t fragmentation_point = 0;
  Address primary;
  std::vector<PathInfo> paths;
  bool have_stats = false;
  sctp_assoc_stats stats{};
};

class Socket {
 public:
  Socket() = default;
  // A nonblocking one-to-many socket (AF_INET6 accepts IPv4 too unless the addresses say otherwise),
  // with options applied and notifications subscribed.
  static Socket open(int family, const SocketOptions& opts, std::error_code& ec);

  // sctp_bindx over all addresses (the first is bind()'s, the others added).
  bool bind(const std::vector<Address>& addrs, std::error_code& ec);
  bool listen(int backlog, std::error_code& ec);
  // Starts an association with a (multi-homed) peer: sctp_connectx. Nonblocking: COMM_UP or
  // CANT_STR_ASSOC arrives as a notification. Returns the association id when the kernel gives it.
  sctp_assoc_t connect(const std::vector<Address>& peer, std::error_code& ec);

  // Reads one message or notification, reassembling partial reads up to `max_message`.
  // A message longer than max_message is discarded whole and reported as Oversize.
  void receive(Received& out, std::size_t max_message);

  // Reads up to kBatch items with one recvmmsg (same reassembly and limits as receive()).
  static constexpr std::size_t kBatch = 32;
  void receive_batch(ReceiveBatch& out, std::size_t max_message);

  // Sends one whole message to an association (sendmsg with SCTP_SNDINFO, MSG_NOSIGNAL|MSG_DONTWAIT).
  SendStatus send(const MessageInfo& info, const uint8_t* data, std::size_t len, std::error_code& ec);
  // Sends messages in order with sendmmsg; returns how many went. When fewer than `n`, `status`
  // (WouldBlock or Error, with `ec`) is that of the first one that did not.
  std::size_t send_batch(const OutMessage* msgs, std::size_t n, SendStatus& status, std::error_code& ec);

  // Turns SENDER_DRY notifications on for current and future associations; the kernel reports at
  // once for an association that is already dry.
  bool watch_sender_dry(std::error_code& ec);

  // Moves one association of a one-to-many socket onto a socket of its own (sctp_peeloff),
  // nonblocking, with the given buffer sizes (0: as this socket's); its half-reassembled message
  // moves with it. The new socket shares this one's reassembly budget.
  Socket peeloff(sctp_assoc_t assoc, int rcvbuf, int sndbuf, std::error_code& ec);
  // Shares `budget` (which must outlive the socket) for partial messages; nullptr: no limit.
  // From now on its partial messages are charged to `budget` (nullptr: no limit); what those it
  // already holds take moves there from the previous one. A socket handed to another thread is
  // detached (nullptr) on the thread it leaves and attached on the one it joins: a budget is
  // never touched by two threads.
  void set_reassembly_budget(ReassemblyBudget* budget);
  // The buffer sizes the kernel actually granted (getsockopt; what it counts, i.e. twice what
  // was asked for when the request fit under net.core.[rw]mem_max). 0 on error.
  int receive_buffer() const;
  int send_buffer() const;
  // The association's state (SCTP_STATUS sstat_state: SCTP_ESTABLISHED, ...), or -1 when the
  // kernel no longer knows it.
  int association_state(sctp_assoc_t assoc) const;

  // Graceful SHUTDOWN (SCTP_EOF) or ABORT of one association; an ABORT may carry a reason, which
  // the peer sees as a User-Initiated Abort cause.
  void shutdown(sctp_assoc_t assoc);
  void abort(sctp_assoc_t assoc, std::string_view reason = {});

  // False when the kernel no longer knows the association.
  bool association_info(sctp_assoc_t assoc, AssociationInfo& out) const;

  std::vector<Address> peer_addresses(sctp_assoc_t assoc) const;  // sctp_getpaddrs
  std::vector<Address> local_addresses() const;                    // sctp_getladdrs(…, 0, …)
  // Primary path's address of an association (SCTP_PRIMARY_ADDR), empty on error.
  std::vector<Address> primary_address(sctp_assoc_t assoc) const;
  // Makes `peer` the association's primary path (SCTP_PRIMARY_ADDR).
  bool set_primary(sctp_assoc_t assoc, const Address& peer, std::error_code& ec);

  int fd() const { return fd_.get(); }
  explicit operator bool() const { return bool(fd_); }
  void close();

  // Feeds one read (`n` bytes at `data`, with `msg`'s flags, control data and sender, as recvmsg
  // fills them) to the reassembly; true when `out` holds a finished item. What receive() and
  // receive_batch() do with each read; it needs no descriptor, so a socket that was never opened
  // can be fed reads of any shape (fuzz/receive_fuzz.cpp).
  // `borrow`: a whole message may be handed out as a view of `data` instead of a copy.
  bool ingest(const uint8_t* data, std::size_t n, const msghdr& msg, std::size_t max_message, bool borrow,
              Received& out);

 private:
  explicit Socket(UniqueFd fd) : fd_(std::move(fd)) {}
  // A message of one association read so far (with fragment interleave, several associations
  // of a one-to-many socket may each have one).
  struct Partial {
    MessageInfo info;
    Address source;
    std::vector<uint8_t> data;
    bool discarding = false;  // over the maximum or the budget: the rest is read and thrown away
  };
  UniqueFd fd_;
  bool message_sources_ = true;
  std::unordered_map<sctp_assoc_t, Partial> partials_;
  ReassemblyBudget* budget_ = nullptr;
  std::vector<uint8_t> scratch_;       // receive()'s read buffer
  std::vector<uint8_t> notification_;  // a notification being reassembled (MSG_NOTIFICATION w/o MSG_EOR)

  // Forgets the partial message of `assoc` (and gives its bytes back to the budget).
  void drop_partial(sctp_assoc_t assoc);
  // Decodes a whole notification in notification_ into `out` (and drops a partial message it ends).
  void finish_notification(Received& out);

 public:
  ~Socket();
  Socket(Socket&& o) noexcept;
  Socket& operator=(Socket&& o) noexcept;
};

// Human-readable names for logs: "COMM_UP", "COMM_LOST", ...
const char* assoc_state_name(uint16_t state);
const char* paddr_state_name(uint32_t state);
// "ESTABLISHED", "SHUTDOWN_PENDING", ... (SCTP_STATUS sstat_state)
const char* association_state_name(int32_t state);
// "active", "inactive", "potentially-failed", "unconfirmed", "unknown" (spinfo_state)
const char* path_state_name(int32_t state);

}  // namespace sctprelay::sctp
