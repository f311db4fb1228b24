#include "harness/peer.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace harness {

using namespace sctprelay;

namespace {

sctp::Socket open_socket(const std::vector<std::string>& addrs, uint16_t streams) {
  sctp::SocketOptions o;
  o.out_streams = streams;
  o.in_streams = streams;
  int family = AF_INET;
  for (auto& a : addrs)
    if (a.find(':') != std::string::npos) family = AF_INET6;
  std::error_code ec;
  auto s = sctp::Socket::open(family, o, ec);
  if (ec) throw std::runtime_error("socket: " + ec.message());
  return s;
}

std::vector<sctp::Address> parse(const std::vector<std::string>& hosts, uint16_t port) {
  std::error_code ec;
  auto v = sctp::parse_addresses(hosts, port, ec);
  if (ec) throw std::runtime_error("bad address");
  return v;
}

}  // namespace

Peer Peer::listen(uint16_t port, std::vector<std::string> addresses, uint16_t streams) {
  Peer p;
  p.sock_ = open_socket(addresses, streams);
  std::error_code ec;
  if (!p.sock_.bind(parse(addresses, port), ec) || !p.sock_.listen(16, ec))
    throw std::runtime_error("listen on port " + std::to_string(port) + ": " + ec.message());
  return p;
}

Peer Peer::connect(uint16_t port, std::vector<std::string> addresses, uint16_t streams,
                   std::vector<std::string> local) {
  Peer p;
  p.sock_ = open_socket(addresses, streams);
  std::error_code ec;
  if (!local.empty() && !p.sock_.bind(parse(local, 0), ec))
    throw std::runtime_error("bind local: " + ec.message());
  p.sock_.connect(parse(addresses, port), ec);
  if (ec) throw std::runtime_error("connect: " + ec.message());
  if (!p.wait_up()) throw std::runtime_error("association to port " + std::to_string(port) + " did not come up");
  return p;
}

bool Peer::pump(Deadline d) {
  for (;;) {
    sock_.receive(rx_, max_message_);
    switch (rx_.status) {
      case sctp::RecvStatus::Message:
        pending_.push_back(Msg{rx_.info, rx_.data});
        return true;
      case sctp::RecvStatus::Notification:
        if (auto* c = std::get_if<sctp::AssocChange>(&rx_.notification)) {
          changes.push_back(*c);
          if (c->state == SCTP_COMM_UP || c->state == SCTP_RESTART) {
            assoc_ = c->assoc;
            out_streams_ = c->outbound_streams;
          }
        }
        return true;
      case sctp::RecvStatus::WouldBlock: {
        pollfd pfd{sock_.fd(), POLLIN, 0};
        int ms = d.poll_ms();
        if (ms == 0 || ::poll(&pfd, 1, ms) <= 0) return false;
        continue;
      }
      case sctp::RecvStatus::Error:
        return true;
      default:  // Oversize (and any other discarded message)
        ++oversize;
        return true;
    }
  }
}

sctp_assoc_t Peer::wait_up(Deadline d) {
  std::size_t seen = changes.size();
  while (true) {
    for (std::size_t i = seen; i < changes.size(); ++i)
      if (changes[i].state == SCTP_COMM_UP || changes[i].state == SCTP_RESTART) return changes[i].assoc;
    seen = changes.size();
    if (!pump(d)) return 0;
  }
}

bool Peer::wait_down(Deadline d, sctp_assoc_t assoc) {
  if (!assoc) assoc = assoc_;
  auto is_down = [&](const sctp::AssocChange& c) {
    return c.assoc == assoc && (c.state == SCTP_COMM_LOST || c.state == SCTP_SHUTDOWN_COMP);
  };
  while (true) {
    if (std::any_of(changes.begin(), changes.end(), is_down)) return true;
    if (!pump(d)) return false;
  }
}

bool Peer::wait_writable(Deadline d) {
  pollfd pfd{sock_.fd(), POLLOUT, 0};
  return ::poll(&pfd, 1, d.poll_ms()) > 0;
}

bool Peer::send_bytes(const std::vector<uint8_t>& data, uint16_t stream, uint32_t ppid, bool unordered,
                      sctp_assoc_t assoc, Deadline d) {
  sctp::MessageInfo info;
  info.assoc = assoc ? assoc : assoc_;
  info.stream = stream;
  info.ppid = ppid;
  info.unordered = unordered;
  while (true) {
    std::error_code ec;
    switch (sock_.send(info, data.data(), data.size(), ec)) {
      case sctp::SendStatus::Sent: return true;
      case sctp::SendStatus::Error: return false;
      case sctp::SendStatus::WouldBlock:
        if (!wait_writable(d)) return false;
    }
  }
}

bool Peer::send(const std::string& data, uint16_t stream, uint32_t ppid, bool unordered, sctp_assoc_t assoc,
                Deadline d) {
  return send_bytes(std::vector<uint8_t>(data.begin(), data.end()), stream, ppid, unordered, assoc, d);
}

std::optional<Msg> Peer::recv(Deadline d) {
  while (pending_.empty())
    if (!pump(d)) return std::nullopt;
  Msg m = std::move(pending_.front());
  pending_.erase(pending_.begin());
  return m;
}

std::vector<Msg> Peer::recv_n(std::size_t n, Deadline d) {
  while (pending_.size() < n)
    if (!pump(d)) break;
  std::size_t k = std::min(n, pending_.size());
  std::vector<Msg> out(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.begin() + k));
  pending_.erase(pending_.begin(), pending_.begin() + k);
  return out;
}

bool Peer::quiet_until(Deadline d) {
  while (pending_.empty())
    if (!pump(d)) return true;
  return false;
}

void Peer::force_buffers(int rcvbuf, int sndbuf) {
  for (auto [name, value] : {std::pair{SO_RCVBUFFORCE, rcvbuf}, std::pair{SO_SNDBUFFORCE, sndbuf}})
    if (value > 0 && ::setsockopt(sock_.fd(), SOL_SOCKET, name, &value, sizeof value) != 0)
      throw std::runtime_error(std::string("SO_") + (name == SO_RCVBUFFORCE ? "RCV" : "SND") +
                               "BUFFORCE: " + std::strerror(errno) + " (needs root)");
}

void Peer::shutdown(sctp_assoc_t assoc) { sock_.shutdown(assoc ? assoc : assoc_); }
void Peer::abort(sctp_assoc_t assoc) { sock_.abort(assoc ? assoc : assoc_); }

std::string payload(std::size_t size, uint64_t seq, uint16_t stream) {
  std::string head = "seq=" + std::to_string(seq) + " stream=" + std::to_string(stream) + ";";
  std::string s;
  s.reserve(size);
  for (std::size_t i = 0; i < size; ++i)
    s.push_back(i < head.size() ? head[i] : static_cast<char>('a' + (i * 7 + seq) % 26));
  return s;
}

std::optional<PayloadId> payload_id(std::string_view data) {
  unsigned long long seq = 0;
  unsigned stream = 0;
  int used = 0;
  std::string head(data.substr(0, 48));
  if (std::sscanf(head.c_str(), "seq=%llu stream=%u;%n", &seq, &stream, &used) != 2 || used == 0) return std::nullopt;
  return PayloadId{seq, static_cast<uint16_t>(stream)};
}

}  // namespace harness
