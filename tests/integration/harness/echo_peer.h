// A destination that answers: every message goes straight back on the association, stream, PPID
// and ordering it came in on, from a thread of its own until it is destroyed. It counts what it
// echoed and the associations that came up and ended.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

#include "harness/deadline.h"
#include "harness/peer.h"

namespace harness {

class EchoPeer {
 public:
  explicit EchoPeer(uint16_t port) : peer_(Peer::listen(port)), thread_([this] { run(); }) {}
  ~EchoPeer() {
    stop_ = true;
    thread_.join();
  }
  EchoPeer(const EchoPeer&) = delete;
  EchoPeer& operator=(const EchoPeer&) = delete;

  std::size_t echoed() const { return echoed_; }
  std::size_t ups() const { return ups_; }
  std::size_t downs() const { return downs_; }
  bool failed() const { return failed_; }

 private:
  void run() {
    while (!stop_) {
      auto m = peer_.recv(Deadline::in(std::chrono::milliseconds(50)));
      if (m) {
        if (!peer_.send_bytes(m->data, m->info.stream, m->info.ppid, m->info.unordered, m->info.assoc)) failed_ = true;
        ++echoed_;
      }
      std::size_t up = 0, down = 0;
      for (auto& c : peer_.changes) {
        up += c.state == SCTP_COMM_UP;
        down += c.state == SCTP_SHUTDOWN_COMP || c.state == SCTP_COMM_LOST;
      }
      ups_ = up;
      downs_ = down;
    }
  }
  Peer peer_;
  std::atomic<bool> stop_{false}, failed_{false};
  std::atomic<std::size_t> echoed_{0}, ups_{0}, downs_{0};
  std::thread thread_;  // last: starts once everything it uses exists
};

}  // namespace harness
