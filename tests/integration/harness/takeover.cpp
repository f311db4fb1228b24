#include "harness/takeover.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

namespace harness {

namespace {

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

bool is_sctp(int fd) {
  int proto = 0;
  socklen_t len = sizeof proto;
  return ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == IPPROTO_SCTP;
}

std::vector<sctp_assoc_t> association_ids(int fd) {
  alignas(sctp_assoc_ids) char buf[sizeof(sctp_assoc_ids) + 256 * sizeof(sctp_assoc_t)] = {};
  socklen_t len = sizeof buf;
  if (::getsockopt(fd, IPPROTO_SCTP, SCTP_GET_ASSOC_ID_LIST, buf, &len) != 0)
    throw sys_error("SCTP_GET_ASSOC_ID_LIST");
  const auto* ids = reinterpret_cast<const sctp_assoc_ids*>(buf);
  return {ids->gaids_assoc_id, ids->gaids_assoc_id + ids->gaids_number_of_ids};
}

void send_abort(int fd, sctp_assoc_t assoc) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sctp_sndinfo))] = {};
  msghdr msg{};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_SCTP;
  c->cmsg_type = SCTP_SNDINFO;
  c->cmsg_len = CMSG_LEN(sizeof(sctp_sndinfo));
  sctp_sndinfo info{};
  info.snd_flags = SCTP_ABORT;
  info.snd_assoc_id = assoc;
  std::memcpy(CMSG_DATA(c), &info, sizeof info);
  if (::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) throw sys_error("ABORT of association " + std::to_string(assoc));
}

}  // namespace

TakenSocket TakenSocket::from_process(pid_t pid) {
  sctprelay::UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) throw sys_error("pidfd_open " + std::to_string(pid));
  TakenSocket out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (auto& entry : std::filesystem::directory_iterator(dir)) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (ec || target.string().rfind("socket:", 0) != 0) continue;
    int theirs = std::stoi(entry.path().filename().string());
    sctprelay::UniqueFd mine(static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), theirs, 0)));
    if (!mine) throw sys_error("pidfd_getfd of fd " + std::to_string(theirs) + " of process " + std::to_string(pid));
    if (!is_sctp(mine.get())) continue;
    if (out.fd_) throw std::runtime_error("process " + std::to_string(pid) + " has more than one SCTP socket");
    out.fd_ = std::move(mine);
  }
  if (!out.fd_) throw std::runtime_error("process " + std::to_string(pid) + " has no SCTP socket");
  // No new associations on it from now on (a backlog of 0 stops a one-to-many socket listening):
  // a peer reconnecting meanwhile must not find this socket, which nobody will read for good.
  if (::listen(out.fd_.get(), 0) != 0) throw sys_error("listen(0) on the taken socket");
  return out;
}

std::vector<Msg> TakenSocket::abort_and_drain(Deadline d) {
  const int fd = fd_.get();
  std::set<sctp_assoc_t> ending;
  for (sctp_assoc_t id : association_ids(fd)) {
    send_abort(fd, id);
    ending.insert(id);
  }
  std::vector<Msg> whole;
  std::map<sctp_assoc_t, Msg> partial;
  std::vector<uint8_t> notification;
  std::vector<uint8_t> buf(256 * 1024);
  // Until every aborted association has reported its end, then whatever is left.
  for (;;) {
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sctp_rcvinfo)) + CMSG_SPACE(sizeof(sctp_sndrcvinfo))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) throw sys_error("recvmsg on the taken socket");
      if (ending.empty()) break;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, d.poll_ms()) <= 0)
        throw std::runtime_error("the taken socket's associations did not end (no COMM_LOST) in time");
      continue;
    }
    bool eor = msg.msg_flags & MSG_EOR;
    if (msg.msg_flags & MSG_NOTIFICATION) {
      notification.insert(notification.end(), buf.begin(), buf.begin() + n);
      if (!eor) continue;
      sctp_notification note{};
      std::memcpy(&note, notification.data(), std::min(notification.size(), sizeof note));
      if (note.sn_header.sn_type == SCTP_ASSOC_CHANGE) {
        const auto& change = note.sn_assoc_change;
        if (change.sac_state == SCTP_COMM_LOST || change.sac_state == SCTP_SHUTDOWN_COMP) {
          ending.erase(change.sac_assoc_id);
          partial.erase(change.sac_assoc_id);
        }
      } else if (note.sn_header.sn_type == SCTP_PARTIAL_DELIVERY_EVENT) {
        partial.erase(note.sn_pdapi_event.pdapi_assoc_id);
      }
      notification.clear();
      continue;
    }
    sctprelay::sctp::MessageInfo info;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_SCTP || c->cmsg_type != SCTP_RCVINFO) continue;
      sctp_rcvinfo rcv;
      std::memcpy(&rcv, CMSG_DATA(c), sizeof rcv);
      info.assoc = rcv.rcv_assoc_id;
      info.stream = rcv.rcv_sid;
      info.ppid = ntohl(rcv.rcv_ppid);
      info.unordered = (rcv.rcv_flags & SCTP_UNORDERED) != 0;
      info.context = rcv.rcv_context;
    }
    Msg& m = partial[info.assoc];
    if (m.data.empty()) m.info = info;
    m.data.insert(m.data.end(), buf.begin(), buf.begin() + n);
    if (eor) {
      whole.push_back(std::move(m));
      partial.erase(info.assoc);
    }
  }
  fd_.reset();
  return whole;
}

}  // namespace harness
