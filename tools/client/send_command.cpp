// `send`: one association to a (multi-homed) peer; send every message (paced with --rate), wait
// for replies or for the sender-dry event, then shut down gracefully.
#include <poll.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>

#include "commands.h"
#include "digest.h"
#include "events.h"
#include "exit_codes.h"
#include "output.h"
#include "pacer.h"
#include "payload.h"
#include "progress.h"
#include "sctp/explain.h"
#include "util/log.h"
#include "waiting.h"

namespace sctprelay::client {
namespace {

class SendSession {
 public:
  explicit SendSession(const SendOptions& o) : o_(o), deadline_(o.timeout_s) {}
  int run();

 private:
  // Parses addresses, opens and binds the socket; an exit status.
  int prepare(std::vector<sctp::Address>& peers);
  int connect(const std::vector<sctp::Address>& peers);
  int send_all(MessageSource& source);
  // Waits until the pacer lets the next message go; that time does not count against --timeout.
  int wait_for_slot(const Pacer& pacer);
  int wait_replies();
  int wait_dry();
  int close();
  // Waits for the socket (POLLIN plus `extra`) until `wake` at the latest, reads what is there and
  // prints progress when it is due; an exit status on timeout/error, 0 otherwise (also when it
  // woke up with nothing to do).
  int wait_and_drain(short extra, Clock::time_point wake = Clock::time_point::max());
  void drain();
  void report_progress();
  void on_reply();
  void on_notification();
  bool gone() const { return lost_ || shutdown_done_ || error_; }
  int finish(int status);

  const SendOptions& o_;
  Deadline deadline_;
  Clock::time_point started_ = Clock::now();
  std::optional<ProgressMeter> progress_;  // from the start of sending, when progress is wanted
  std::string peer_text_;                   // the first peer address, for messages
  sctp::Socket sock_;
  sctp::Received rx_;
  sctp_assoc_t assoc_ = 0;
  bool up_ = false, refused_ = false, lost_ = false, shutdown_done_ = false, error_ = false;
  uint64_t dry_events_ = 0, replies_ = 0, sent_ = 0, bytes_ = 0, send_failed_ = 0, mismatches_ = 0;
  std::unordered_map<std::string, uint64_t> expected_;  // sha256 of sent messages not yet echoed
};

int SendSession::prepare(std::vector<sctp::Address>& peers) {
  std::error_code ec;
  std::string bad;
  peers = sctp::parse_addresses(o_.hosts, o_.port, ec, &bad);
  if (ec) {
    LOG_ERROR("bad peer address '%s'", bad.c_str());
    return kExitUsage;
  }
  auto local = sctp::parse_addresses(o_.local, 0, ec, &bad);
  if (ec) {
    LOG_ERROR("bad local address '%s'", bad.c_str());
    return kExitUsage;
  }
  peer_text_ = peers[0].to_string();
  auto all = peers;
  all.insert(all.end(), local.begin(), local.end());
  sctp::SocketOptions so;
  so.out_streams = so.in_streams = std::max<uint16_t>(o_.streams, uint16_t(o_.stream_last + 1));
  const int family = sctp::family_for(all);
  sock_ = sctp::Socket::open(family, so, ec);
  if (!sock_) {
    LOG_ERROR("%s", sctp::explain_socket_error(ec, family).c_str());
    return kExitNetwork;
  }
  if (!local.empty() && !sock_.bind(local, ec)) {
    std::string list;
    for (const auto& a : o_.local) list += (list.empty() ? "" : ",") + a;
    LOG_ERROR("%s", sctp::explain_bind_error(ec, list, 0).c_str());
    return kExitNetwork;
  }
  return kExitOk;
}

void SendSession::on_reply() {
  ++replies_;
  Record r("reply");
  r.add("assoc", int64_t(rx_.info.assoc));
  describe_message(r, rx_.info, rx_.data.data(), rx_.data.size(), o_.hex);
  if (o_.verify) {
    auto it = expected_.find(sha256_hex(rx_.data.data(), rx_.data.size()));
    bool valid = it != expected_.end() && it->second > 0;
    if (valid) --it->second;
    else ++mismatches_;
    r.add_bool("valid", valid);
  }
  emit(r, o_.json);
}

void SendSession::on_notification() {
  const auto& n = rx_.notification;
  emit_notification(sock_, n, o_.json);
  if (const auto* ac = std::get_if<sctp::AssocChange>(&n)) {
    if (assoc_ != 0 && ac->assoc != assoc_) return;
    switch (ac->state) {
      case SCTP_COMM_UP: up_ = true; assoc_ = ac->assoc; break;
      case SCTP_CANT_STR_ASSOC: refused_ = true; break;
      case SCTP_COMM_LOST: lost_ = true; break;
      case SCTP_SHUTDOWN_COMP: shutdown_done_ = true; break;
    }
  } else if (std::holds_alternative<sctp::SenderDry>(n)) {
    ++dry_events_;
  } else if (std::holds_alternative<sctp::SendFailed>(n)) {
    ++send_failed_;
  }
}

void SendSession::drain() {
  for (;;) {
    sock_.receive(rx_, o_.max_size);
    switch (rx_.status) {
      case sctp::RecvStatus::WouldBlock: return;
      case sctp::RecvStatus::Message: on_reply(); break;
      case sctp::RecvStatus::Oversize:
      case sctp::RecvStatus::OverBudget:  // (no budget is set: never)
        ++replies_;
        if (o_.verify) ++mismatches_;
        emit(Record("oversize").add("assoc", int64_t(rx_.info.assoc)).add("stream", unsigned(rx_.info.stream)),
             o_.json);
        break;
      case sctp::RecvStatus::Notification: on_notification(); break;
      case sctp::RecvStatus::Error:
        LOG_ERROR("receive failed: %s", rx_.ec.message().c_str());
        error_ = true;
        return;
    }
  }
}

void SendSession::report_progress() {
  if (!progress_) return;
  if (auto interval = progress_->tick(Clock::now(), sent_, bytes_))
    print_progress(send_progress_line(*interval, sent_, replies_));
}

int SendSession::wait_and_drain(short extra, Clock::time_point wake) {
  if (progress_) wake = std::min(wake, progress_->next());
  short got = 0;
  switch (wait_fd(sock_.fd(), POLLIN | extra, deadline_, got, wake)) {
    case Wait::Timeout: return kExitTimeout;
    case Wait::Error:
    case Wait::Stopped: return kExitNetwork;
    case Wait::Ready:
    case Wait::Wake: break;
  }
  if (got & (POLLIN | POLLERR | POLLHUP)) drain();
  report_progress();
  return kExitOk;
}

int SendSession::connect(const std::vector<sctp::Address>& peers) {
  std::error_code ec;
  assoc_ = sock_.connect(peers, ec);
  if (ec) {
    LOG_ERROR("%s", sctp::explain_connect_error(ec, peer_text_).c_str());
    return kExitNetwork;
  }
  while (!up_) {
    if (refused_) {
      // CANT_STR_ASSOC: with the usual INIT retries (minutes of them) this is the peer's ABORT,
      // i.e. nothing listens on that port.
      LOG_ERROR("%s", sctp::explain_connect_error(std::make_error_code(std::errc::connection_refused),
                                                  peer_text_).c_str());
      return kExitNetwork;
    }
    if (gone()) {
      LOG_ERROR("association to %s could not be established", peer_text_.c_str());
      return kExitNetwork;
    }
    if (int rc = wait_and_drain(0); rc != kExitOk) {
      if (rc == kExitTimeout)
        LOG_ERROR("no association within the timeout: %s",
                  sctp::explain_connect_error(std::make_error_code(std::errc::timed_out), peer_text_).c_str());
      else
        LOG_ERROR("no association to %s", peer_text_.c_str());
      return kExitNetwork;
    }
  }
  return kExitOk;
}

int SendSession::wait_for_slot(const Pacer& pacer) {
  for (;;) {
    const Clock::time_point now = Clock::now();
    const Clock::time_point at = pacer.next(now);
    if (at <= now) return kExitOk;
    // The deadline moves by the time spent waiting for the schedule, so --timeout counts only the
    // rest; what is left over when something else wakes us up early is given back.
    deadline_.extend(at - now);
    int rc = wait_and_drain(0, at);
    const Clock::time_point after = Clock::now();
    if (after < at) deadline_.extend(-(at - after));
    if (rc != kExitOk) return rc;
    if (gone()) return kExitNetwork;
  }
}

int SendSession::send_all(MessageSource& source) {
  std::string msg;
  std::error_code ec;
  const Clock::time_point start = Clock::now();
  Pacer pacer(o_.rate, o_.burst, start);
  if (progress_wanted(o_.progress, true)) progress_.emplace(start);
  while (source.next(msg)) {
    sctp::MessageInfo info;
    info.assoc = assoc_;
    info.stream = stream_for(sent_, o_.stream_first, o_.stream_last);
    info.ppid = o_.ppid;
    info.unordered = o_.unordered;
    if (o_.verify) ++expected_[sha256_hex(reinterpret_cast<const uint8_t*>(msg.data()), msg.size())];
    if (int rc = wait_for_slot(pacer); rc != kExitOk) {
      if (rc == kExitTimeout) LOG_ERROR("timed out before message %llu", (unsigned long long)sent_);
      else LOG_ERROR("association ended while sending");
      return rc;
    }
    for (;;) {
      auto st = sock_.send(info, reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), ec);
      if (st == sctp::SendStatus::Sent) break;
      if (st == sctp::SendStatus::Error) {
        LOG_ERROR("sending message %llu failed: %s", (unsigned long long)sent_, ec.message().c_str());
        return kExitNetwork;
      }
      if (int rc = wait_and_drain(POLLOUT); rc != kExitOk) {
        LOG_ERROR("timed out sending message %llu", (unsigned long long)sent_);
        return rc;
      }
      if (gone()) break;
    }
    if (gone()) {
      LOG_ERROR("association ended while sending");
      return kExitNetwork;
    }
    pacer.sent(Clock::now());
    ++sent_;
    bytes_ += msg.size();
    if (sent_ % 64 == 0) {
      drain();  // replies must not pile up while we send
      report_progress();
    }
  }
  return kExitOk;
}

int SendSession::wait_replies() {
  while (replies_ < o_.wait_replies) {
    if (gone()) {
      LOG_ERROR("association ended after %llu of %llu replies", (unsigned long long)replies_,
                (unsigned long long)o_.wait_replies);
      return kExitNetwork;
    }
    if (int rc = wait_and_drain(0); rc != kExitOk) {
      LOG_ERROR("got %llu of %llu replies before the timeout", (unsigned long long)replies_,
                (unsigned long long)o_.wait_replies);
      return rc;
    }
  }
  return kExitOk;
}

int SendSession::wait_dry() {
  // Any dry event counts: the graceful shutdown that follows delivers what is left anyway.
  uint64_t before = dry_events_;
  drain();
  while (dry_events_ == before && !gone()) {
    if (int rc = wait_and_drain(0); rc != kExitOk) {
      LOG_ERROR("data not acknowledged before the timeout");
      return rc;
    }
  }
  return kExitOk;
}

int SendSession::close() {
  if (lost_) return kExitNetwork;
  if (!shutdown_done_) sock_.shutdown(assoc_);
  while (!shutdown_done_) {
    if (lost_ || error_) return kExitNetwork;
    if (int rc = wait_and_drain(0); rc != kExitOk) {
      LOG_ERROR("shutdown not complete before the timeout");
      return rc;
    }
  }
  return kExitOk;
}

int SendSession::finish(int status) {
  if (status == kExitOk && send_failed_ > 0) status = kExitNetwork;
  if (status == kExitOk && mismatches_ > 0) status = kExitMismatch;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_);
  Record r("summary");
  r.add("sent", sent_).add("bytes", bytes_).add("replies", replies_);
  if (o_.verify) r.add("mismatches", mismatches_);
  r.add("send_failed", send_failed_).add("elapsed_ms", uint64_t(ms.count())).add("exit", status);
  emit(r, o_.json);
  return status;
}

int SendSession::run() {
  std::vector<sctp::Address> peers;
  std::ifstream file;
  std::unique_ptr<MessageSource> source;
  if (o_.count) {
    source = std::make_unique<GeneratedSource>(o_.count, o_.size, o_.stream_first, o_.stream_last);
  } else if (!o_.file.empty()) {
    file.open(o_.file);
    if (!file) {
      LOG_ERROR("cannot read %s", o_.file.c_str());
      return kExitUsage;
    }
    source = std::make_unique<LineSource>(file);
  } else {
    source = std::make_unique<LineSource>(std::cin);
  }
  if (int rc = prepare(peers); rc != kExitOk) return rc;
  if (int rc = connect(peers); rc != kExitOk) return rc;
  if (int rc = send_all(*source); rc != kExitOk) return finish(rc);
  int rc = o_.wait_replies ? wait_replies() : (sent_ ? wait_dry() : kExitOk);
  if (rc != kExitOk) return finish(rc);
  return finish(close());
}

}  // namespace

int run_send(const SendOptions& options) {
  SendSession session(options);
  return session.run();
}

}  // namespace sctprelay::client
