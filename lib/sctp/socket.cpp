// Socket: creation with options and subscriptions, bind/listen/connect, send, shutdown/abort,
// address queries. Receiving lives in receive.cpp.
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>

#include "sctp/socket.h"
#include "util/log.h"

namespace sctprelay::sctp {
namespace {

std::error_code errno_code() { return {errno, std::generic_category()}; }

template <typename T>
bool set_option(int fd, int level, int name, const T& value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

// Buffer sizes: the *FORCE variants pass net.core.[rw]mem_max when privileged; else the plain ones.
void set_buffer(int fd, int force_name, int name, int bytes, const char* what) {
  if (bytes <= 0) return;
  if (set_option(fd, SOL_SOCKET, force_name, bytes)) return;
  if (!set_option(fd, SOL_SOCKET, name, bytes))
    LOG_WARN("sctp: setting %s to %d failed: %s", what, bytes, std::strerror(errno));
}

constexpr uint16_t kSubscribedEvents[] = {
    SCTP_ASSOC_CHANGE,      SCTP_PEER_ADDR_CHANGE,       SCTP_SEND_FAILED_EVENT,
    SCTP_SHUTDOWN_EVENT,    SCTP_SENDER_DRY_EVENT,       SCTP_PARTIAL_DELIVERY_EVENT,
};

// RFC 6458 SCTP_EVENT per type; older kernels only have the SCTP_EVENTS struct (which reports
// the older SCTP_SEND_FAILED format; receive.cpp decodes both).
bool subscribe_events(int fd, bool sender_dry) {
  bool all = true;
  for (uint16_t type : kSubscribedEvents) {
    if (type == SCTP_SENDER_DRY_EVENT && !sender_dry) continue;
    sctp_event ev{};
    ev.se_assoc_id = SCTP_FUTURE_ASSOC;
    ev.se_type = type;
    ev.se_on = 1;
    if (!set_option(fd, IPPROTO_SCTP, SCTP_EVENT, ev)) {
      all = false;
      break;
    }
  }
  if (all) return true;
  sctp_event_subscribe sub{};
  sub.sctp_association_event = 1;
  sub.sctp_address_event = 1;
  sub.sctp_send_failure_event = 1;
  sub.sctp_shutdown_event = 1;
  sub.sctp_partial_delivery_event = 1;
  sub.sctp_sender_dry_event = sender_dry ? 1 : 0;
  return set_option(fd, IPPROTO_SCTP, SCTP_EVENTS, sub);
}

// Packs addresses back to back, each at its own length, as sctp_bindx/sctp_connectx expect.
std::vector<uint8_t> pack(const std::vector<Address>& addrs, std::size_t first = 0) {
  std::vector<uint8_t> buf;
  for (std::size_t i = first; i < addrs.size(); ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(addrs[i].sa());
    buf.insert(buf.end(), p, p + addrs[i].length());
  }
  return buf;
}

std::vector<Address> unpack(const sockaddr* addrs, int count) {
  std::vector<Address> out;
  const auto* p = reinterpret_cast<const uint8_t*>(addrs);
  for (int i = 0; i < count; ++i) {
    const auto* sa = reinterpret_cast<const sockaddr*>(p);
    socklen_t len = sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) break;
    out.push_back(Address::from(sa, len));
    p += len;
  }
  return out;
}

}  // namespace

Socket Socket::open(int family, const SocketOptions& opts, std::error_code& ec) {
  ec.clear();
  int raw = ::socket(family, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_SCTP);
  if (raw < 0) {
    ec = errno_code();
    return {};
  }
  UniqueFd fd(raw);
  auto fail = [&]() {
    ec = errno_code();
    return Socket{};
  };
  if (family == AF_INET6 && !set_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0)) return fail();
  if (opts.reuse_address && !set_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1)) return fail();
  if (opts.reuse_port && !set_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1)) return fail();
  set_buffer(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, opts.rcvbuf, "SO_RCVBUF");
  set_buffer(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, opts.sndbuf, "SO_SNDBUF");

  sctp_initmsg init{};
  init.sinit_num_ostreams = opts.out_streams;
  init.sinit_max_instreams = opts.in_streams;
  if (!set_option(fd.get(), IPPROTO_SCTP, SCTP_INITMSG, init)) return fail();
  if (!set_option(fd.get(), IPPROTO_SCTP, SCTP_NODELAY, opts.nodelay ? 1 : 0)) return fail();
  if (opts.sack_freq != 0 || opts.sack_delay_ms != 0) {
    sctp_sack_info sack{};
    sack.sack_assoc_id = SCTP_FUTURE_ASSOC;
    sack.sack_delay = opts.sack_delay_ms;
    sack.sack_freq = opts.sack_freq;
    if (!set_option(fd.get(), IPPROTO_SCTP, SCTP_DELAYED_SACK, sack))
      LOG_WARN("sctp: SCTP_DELAYED_SACK freq=%u delay=%u failed: %s", opts.sack_freq,
               opts.sack_delay_ms, std::strerror(errno));
  }
  if (!set_option(fd.get(), IPPROTO_SCTP, SCTP_RECVRCVINFO, 1)) return fail();
  if (opts.fragment_interleave && !set_option(fd.get(), IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, 1))
    return fail();
  if (!subscribe_events(fd.get(), opts.sender_dry_events)) return fail();
  Socket socket(std::move(fd));
  socket.message_sources_ = opts.message_sources;
  return socket;
}

bool Socket::watch_sender_dry(std::error_code& ec) {
  ec.clear();
  for (sctp_assoc_t which : {SCTP_CURRENT_ASSOC, SCTP_FUTURE_ASSOC}) {
    sctp_event ev{};
    ev.se_assoc_id = which;
    ev.se_type = SCTP_SENDER_DRY_EVENT;
    ev.se_on = 1;
    if (setsockopt(fd(), IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof ev) != 0) {
      ec = {errno, std::generic_category()};
      return false;
    }
  }
  return true;
}

bool Socket::bind(const std::vector<Address>& addrs, std::error_code& ec) {
  ec.clear();
  if (addrs.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return false;
  }
  if (::bind(fd(), addrs[0].sa(), addrs[0].length()) != 0) {
    ec = errno_code();
    return false;
  }
  if (addrs.size() > 1) {
    auto packed = pack(addrs, 1);
    if (sctp_bindx(fd(), reinterpret_cast<sockaddr*>(packed.data()), int(addrs.size() - 1),
                   SCTP_BINDX_ADD_ADDR) != 0) {
      ec = errno_code();
      return false;
    }
  }
  return true;
}

bool Socket::listen(int backlog, std::error_code& ec) {
  ec.clear();
  if (::listen(fd(), backlog) != 0) {
    ec = errno_code();
    return false;
  }
  return true;
}

sctp_assoc_t Socket::connect(const std::vector<Address>& peer, std::error_code& ec) {
  ec.clear();
  if (peer.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return 0;
  }
  auto packed = pack(peer);
  sctp_assoc_t id = 0;
  int rc = sctp_connectx(fd(), reinterpret_cast<sockaddr*>(packed.data()), int(peer.size()), &id);
  if (rc != 0 && errno != EINPROGRESS) {
    ec = errno_code();
    return 0;
  }
  return id;
}

namespace {

// Fills `control` with an SCTP_SNDINFO for `info` and points `msg` at it and at the payload.
void prepare_send(msghdr& msg, iovec& iov, char* control, const MessageInfo& info, const uint8_t* data,
                  std::size_t len) {
  iov = iovec{const_cast<uint8_t*>(data), len};
  msg = msghdr{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(sctp_sndinfo));
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_SCTP;
  c->cmsg_type = SCTP_SNDINFO;
  c->cmsg_len = CMSG_LEN(sizeof(sctp_sndinfo));
  // CMSG_DATA is aligned for any of the kernel's control structures.
  auto* snd = reinterpret_cast<sctp_sndinfo*>(CMSG_DATA(c));
  snd->snd_sid = info.stream;
  snd->snd_flags = info.unordered ? SCTP_UNORDERED : 0;
  snd->snd_ppid = htonl(info.ppid);  // the kernel copies the PPID verbatim onto the wire
  snd->snd_context = info.context;
  snd->snd_assoc_id = info.assoc;
}

}  // namespace

SendStatus Socket::send(const MessageInfo& info, const uint8_t* data, std::size_t len,
                        std::error_code& ec) {
  ec.clear();
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sctp_sndinfo))] = {};
  iovec iov;
  msghdr msg;
  prepare_send(msg, iov, control, info, data, len);
  for (;;) {
    if (::sendmsg(fd(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return SendStatus::Sent;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return SendStatus::WouldBlock;
    ec = errno_code();
    return SendStatus::Error;
  }
}

std::size_t Socket::send_batch(const OutMessage* msgs, std::size_t n, SendStatus& status, std::error_code& ec) {
  constexpr std::size_t kMax = 64;  // per sendmmsg call
  mmsghdr hdrs[kMax];
  iovec iovs[kMax];
  alignas(cmsghdr) char controls[kMax][CMSG_SPACE(sizeof(sctp_sndinfo))];
  ec.clear();
  status = SendStatus::Sent;
  std::size_t sent = 0;
  while (sent < n) {
    std::size_t k = std::min(kMax, n - sent);
    for (std::size_t i = 0; i < k; ++i) {
      const OutMessage& m = msgs[sent + i];
      prepare_send(hdrs[i].msg_hdr, iovs[i], controls[i], m.info, m.data, m.len);
      hdrs[i].msg_len = 0;
    }
    int r = ::sendmmsg(fd(), hdrs, static_cast<unsigned>(k), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EINTR) continue;
      status = (errno == EAGAIN || errno == EWOULDBLOCK) ? SendStatus::WouldBlock : SendStatus::Error;
      if (status == SendStatus::Error) ec = errno_code();
      return sent;
    }
    sent += static_cast<std::size_t>(r);
    // A short count means the next one failed; asking again for it yields its error.
  }
  return sent;
}

namespace {
// A data-less sendmsg carrying only SCTP_SNDINFO flags (SCTP_EOF, SCTP_ABORT).
void send_flags(int fd, sctp_assoc_t assoc, uint16_t flags) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sctp_sndinfo))] = {};
  msghdr msg{};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_SCTP;
  c->cmsg_type = SCTP_SNDINFO;
  c->cmsg_len = CMSG_LEN(sizeof(sctp_sndinfo));
  sctp_sndinfo snd{};
  snd.snd_flags = flags;
  snd.snd_assoc_id = assoc;
  std::memcpy(CMSG_DATA(c), &snd, sizeof snd);
  while (::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno == EINTR) {
  }
}
}  // namespace

void Socket::shutdown(sctp_assoc_t assoc) { send_flags(fd(), assoc, SCTP_EOF); }

void Socket::abort(sctp_assoc_t assoc, std::string_view reason) {
  if (reason.empty()) {
    send_flags(fd(), assoc, SCTP_ABORT);
    return;
  }
  // With SCTP_ABORT the payload becomes the ABORT's User-Initiated Abort cause.
  MessageInfo info;
  info.assoc = assoc;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sctp_sndinfo))] = {};
  iovec iov;
  msghdr msg;
  prepare_send(msg, iov, control, info, reinterpret_cast<const uint8_t*>(reason.data()), reason.size());
  auto* snd = reinterpret_cast<sctp_sndinfo*>(CMSG_DATA(CMSG_FIRSTHDR(&msg)));
  snd->snd_flags = SCTP_ABORT;
  while (::sendmsg(fd(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno == EINTR) {
  }
}

Socket::~Socket() { close(); }

Socket::Socket(Socket&& o) noexcept { *this = std::move(o); }

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this == &o) return *this;
  close();
  fd_ = std::move(o.fd_);
  message_sources_ = o.message_sources_;
  partials_ = std::move(o.partials_);
  o.partials_.clear();
  budget_ = o.budget_;
  scratch_ = std::move(o.scratch_);
  notification_ = std::move(o.notification_);
  return *this;
}

void Socket::set_reassembly_budget(ReassemblyBudget* budget) {
  for (auto& [_, p] : partials_) {
    if (budget_) budget_->used -= p.data.size();
    if (budget) budget->used += p.data.size();
  }
  budget_ = budget;
}

void Socket::close() {
  for (auto& [_, p] : partials_)
    if (budget_) budget_->used -= p.data.size();
  partials_.clear();
  fd_.reset();
}

Socket Socket::peeloff(sctp_assoc_t assoc, int rcvbuf, int sndbuf, std::error_code& ec) {
  ec.clear();
  // SCTP_SOCKOPT_PEELOFF_FLAGS directly: Debian's libsctp declares sctp_peeloff_flags but does
  // not export it. (The kernel's getsockopt returns the new descriptor, not 0, on success.)
  sctp_peeloff_flags_arg_t arg{};
  arg.p_arg.associd = assoc;
  arg.flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  socklen_t len = sizeof arg;
  if (::getsockopt(fd(), IPPROTO_SCTP, SCTP_SOCKOPT_PEELOFF_FLAGS, &arg, &len) < 0) {
    ec = errno_code();
    return {};
  }
  int raw = arg.p_arg.sd;
  Socket out{UniqueFd(raw)};
  // The new socket inherits the listener's options and subscriptions, and its buffer sizes: the
  // listener's are large for bursts of new associations; one association needs its own.
  set_buffer(raw, SO_RCVBUFFORCE, SO_RCVBUF, rcvbuf, "SO_RCVBUF");
  set_buffer(raw, SO_SNDBUFFORCE, SO_SNDBUF, sndbuf, "SO_SNDBUF");
  out.message_sources_ = message_sources_;
  out.budget_ = budget_;
  auto it = partials_.find(assoc);
  if (it != partials_.end()) {
    out.partials_.emplace(assoc, std::move(it->second));  // its budget share moves with it
    partials_.erase(it);
  }
  return out;
}

namespace {
int get_int_option(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  return ::getsockopt(fd, level, name, &v, &len) == 0 ? v : 0;
}
}  // namespace

int Socket::receive_buffer() const { return get_int_option(fd(), SOL_SOCKET, SO_RCVBUF); }
int Socket::send_buffer() const { return get_int_option(fd(), SOL_SOCKET, SO_SNDBUF); }

int Socket::association_state(sctp_assoc_t assoc) const {
  sctp_status st{};
  st.sstat_assoc_id = assoc;
  socklen_t len = sizeof st;
  if (::getsockopt(fd(), IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return -1;
  return st.sstat_state;
}

bool Socket::association_info(sctp_assoc_t assoc, AssociationInfo& out) const {
  sctp_status st{};
  st.sstat_assoc_id = assoc;
  socklen_t len = sizeof st;
  if (::getsockopt(fd(), IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return false;
  out.state = st.sstat_state;
  out.in_streams = st.sstat_instrms;
  out.out_streams = st.sstat_outstrms;
  out.peer_rwnd = st.sstat_rwnd;
  out.unacked = st.sstat_unackdata;
  out.pending = st.sstat_penddata;
  out.fragmentation_point = st.sstat_fragmentation_point;
  out.primary = Address::from(reinterpret_cast<const sockaddr*>(&st.sstat_primary.spinfo_address),
                              sizeof st.sstat_primary.spinfo_address);
  out.paths.clear();
  for (const Address& peer : peer_addresses(assoc)) {
    sctp_paddrinfo pi{};
    pi.spinfo_assoc_id = assoc;
    std::memcpy(&pi.spinfo_address, &peer.storage, sizeof pi.spinfo_address);
    socklen_t plen = sizeof pi;
    PathInfo path;
    path.address = peer;
    if (::getsockopt(fd(), IPPROTO_SCTP, SCTP_GET_PEER_ADDR_INFO, &pi, &plen) == 0) {
      path.state = pi.spinfo_state;
      path.srtt_ms = pi.spinfo_srtt;
      path.rto_ms = pi.spinfo_rto;
      path.cwnd = pi.spinfo_cwnd;
      path.mtu = pi.spinfo_mtu;
    }
    out.paths.push_back(path);
  }
  out.stats = {};
  out.stats.sas_assoc_id = assoc;
  socklen_t slen = sizeof out.stats;
  out.have_stats = ::getsockopt(fd(), IPPROTO_SCTP, SCTP_GET_ASSOC_STATS, &out.stats, &slen) == 0;
  return true;
}

std::vector<Address> Socket::peer_addresses(sctp_assoc_t assoc) const {
  sockaddr* addrs = nullptr;
  int n = sctp_getpaddrs(fd(), assoc, &addrs);
  if (n <= 0) return {};
  auto out = unpack(addrs, n);
  sctp_freepaddrs(addrs);
  return out;
}

std::vector<Address> Socket::local_addresses() const {
  sockaddr* addrs = nullptr;
  int n = sctp_getladdrs(fd(), 0, &addrs);
  if (n <= 0) return {};
  auto out = unpack(addrs, n);
  sctp_freeladdrs(addrs);
  return out;
}

std::vector<Address> Socket::primary_address(sctp_assoc_t assoc) const {
  sctp_prim prim{};
  prim.ssp_assoc_id = assoc;
  socklen_t len = sizeof prim;
  if (::getsockopt(fd(), IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, &len) != 0) return {};
  return {Address::from(reinterpret_cast<const sockaddr*>(&prim.ssp_addr), sizeof prim.ssp_addr)};
}

bool Socket::set_primary(sctp_assoc_t assoc, const Address& peer, std::error_code& ec) {
  sctp_prim prim{};
  prim.ssp_assoc_id = assoc;
  std::memcpy(&prim.ssp_addr, &peer.storage, sizeof prim.ssp_addr);
  if (::setsockopt(fd(), IPPROTO_SCTP, SCTP_PRIMARY_ADDR, &prim, sizeof prim) != 0) {
    ec = std::error_code(errno, std::system_category());
    return false;
  }
  return true;
}

}  // namespace sctprelay::sctp
