// Small SCTP socket helpers for the benchmark load generator (plain libsctp, no project code,
// so the generator is the same for every variant and does not move when lib/ changes).
#pragma once

#include <netinet/in.h>
#include <netinet/sctp.h>

#include <sys/resource.h>

#include <cstdint>
#include <string>

namespace loadgen {

[[noreturn]] void die(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

uint64_t now_ns();  // CLOCK_MONOTONIC

// "HOST:PORT" (numeric IPv4) -> sockaddr_in; dies on a bad value.
sockaddr_in parse_endpoint(const std::string& text);
sockaddr_in any_port(uint16_t port, const char* host = "127.0.0.1");

struct SocketTuning {
  int buffer_bytes = 1 << 20;  // SO_RCVBUF/SO_SNDBUF (FORCE variants as root); 0 = kernel default
  uint16_t streams = 16;       // INITMSG in and out
};

// Sets SCTP_NODELAY, SACK frequency 1, INITMSG, buffers and the events we read (data_io,
// association changes). Dies on failure of anything but the buffer sizes.
void tune(int fd, const SocketTuning& t);

// One-to-one (SOCK_STREAM) socket connected to `to`, retrying refused connects (the peer may
// still be starting) until `deadline_ns`.
int connect_one_to_one(const sockaddr_in& to, const SocketTuning& t, uint64_t deadline_ns);

// One-to-many (SOCK_SEQPACKET) socket bound to 127.0.0.1:port and listening.
int listen_one_to_many(uint16_t port, const SocketTuning& t);

// Raises RLIMIT_NOFILE (soft and hard) to at least n.
void raise_nofile(rlim_t n);

// One whole message (partial deliveries joined). Returns false at EOF (one-to-one peer closed).
// Notifications are returned with is_notification set.
struct Received {
  size_t size = 0;
  bool is_notification = false;
  sctp_sndrcvinfo info{};
};
bool receive_message(int fd, std::string& buf, Received& out);

}  // namespace loadgen
