// `listen`: accept associations, print every message and notification, optionally echo each
// message back (same association, stream, ppid, flags) and check generated payloads.
#include <poll.h>

#include <deque>
#include <optional>

#include "commands.h"
#include "events.h"
#include "exit_codes.h"
#include "output.h"
#include "payload.h"
#include "progress.h"
#include "sctp/explain.h"
#include "util/log.h"
#include "waiting.h"

namespace sctprelay::client {
namespace {

constexpr std::size_t kMaxQueuedEchoes = 1024;  // stop reading while this many wait to go out

struct Echo {
  sctp::MessageInfo info;
  std::vector<uint8_t> data;
};

class ListenSession {
 public:
  explicit ListenSession(const ListenOptions& o) : o_(o), deadline_(o.timeout_s) {}
  int run();

 private:
  int open();
  bool done() const { return o_.count && messages_ >= o_.count && echoes_.empty(); }
  void read_available();
  void on_message();
  void flush_echoes();
  void report_progress();
  int finish(int status);

  const ListenOptions& o_;
  Deadline deadline_;
  sctp::Socket sock_;
  sctp::Received rx_;
  std::deque<Echo> echoes_;
  std::optional<ProgressMeter> progress_;  // from the start of listening, with --progress
  uint64_t messages_ = 0, bytes_ = 0, invalid_ = 0, oversize_ = 0;
  bool error_ = false;
};

int ListenSession::open() {
  std::error_code ec;
  std::string bad;
  auto addrs = sctp::parse_addresses(o_.bind, o_.port, ec, &bad);
  if (ec) {
    LOG_ERROR("bad bind address '%s'", bad.c_str());
    return kExitUsage;
  }
  sctp::SocketOptions so;
  so.in_streams = so.out_streams = o_.streams;
  const int family = sctp::family_for(addrs);
  sock_ = sctp::Socket::open(family, so, ec);
  if (!sock_) {
    LOG_ERROR("%s", sctp::explain_socket_error(ec, family).c_str());
    return kExitNetwork;
  }
  if (!sock_.bind(addrs, ec)) {
    std::string list;
    for (const auto& a : o_.bind) list += (list.empty() ? "" : ",") + a;
    LOG_ERROR("%s", sctp::explain_bind_error(ec, list, o_.port).c_str());
    return kExitNetwork;
  }
  if (!sock_.listen(128, ec)) {
    LOG_ERROR("cannot listen on %s: %s", addrs[0].to_string().c_str(), ec.message().c_str());
    return kExitNetwork;
  }
  auto local = sock_.local_addresses();
  Record r("listening");
  r.add("port", unsigned(local.empty() ? o_.port : local[0].port())).add("addresses", to_strings(local));
  emit(r, o_.json);
  return kExitOk;
}

void ListenSession::on_message() {
  ++messages_;
  bytes_ += rx_.data.size();
  Record r("message", false);
  r.add("assoc", int64_t(rx_.info.assoc)).add("peer", rx_.source.to_string());
  describe_message(r, rx_.info, rx_.data.data(), rx_.data.size(), o_.hex);
  if (o_.verify) {
    bool valid = is_generated_message(rx_.data.data(), rx_.data.size());
    if (!valid) ++invalid_;
    r.add_bool("valid", valid);
  }
  emit(r, o_.json);
  if (o_.echo) echoes_.push_back({rx_.info, rx_.data});
}

void ListenSession::read_available() {
  while (echoes_.size() < kMaxQueuedEchoes && !(o_.count && messages_ >= o_.count)) {
    sock_.receive(rx_, o_.max_size);
    switch (rx_.status) {
      case sctp::RecvStatus::WouldBlock: return;
      case sctp::RecvStatus::Message: on_message(); break;
      case sctp::RecvStatus::Oversize:
      case sctp::RecvStatus::OverBudget: {  // (no budget is set: never)
        ++oversize_;
        Record r("oversize");
        r.add("assoc", int64_t(rx_.info.assoc)).add("peer", rx_.source.to_string());
        r.add("stream", unsigned(rx_.info.stream)).add("ppid", uint64_t(rx_.info.ppid));
        emit(r, o_.json);
        break;
      }
      case sctp::RecvStatus::Notification: emit_notification(sock_, rx_.notification, o_.json); break;
      case sctp::RecvStatus::Error:
        LOG_ERROR("receive failed: %s", rx_.ec.message().c_str());
        error_ = true;
        return;
    }
  }
}

void ListenSession::flush_echoes() {
  std::error_code ec;
  while (!echoes_.empty()) {
    const Echo& e = echoes_.front();
    auto st = sock_.send(e.info, e.data.data(), e.data.size(), ec);
    if (st == sctp::SendStatus::WouldBlock) return;
    if (st == sctp::SendStatus::Error)
      LOG_WARN("echo to association %d failed: %s", int(e.info.assoc), ec.message().c_str());
    echoes_.pop_front();
  }
}

void ListenSession::report_progress() {
  if (!progress_) return;
  if (auto interval = progress_->tick(Clock::now(), messages_, bytes_))
    print_progress(listen_progress_line(*interval, messages_));
}

int ListenSession::finish(int status) {
  if (status == kExitOk && invalid_ > 0) status = kExitMismatch;
  Record r("summary");
  r.add("messages", messages_).add("bytes", bytes_);
  if (o_.verify) r.add("invalid", invalid_);
  r.add("oversize", oversize_).add("exit", status);
  emit(r, o_.json);
  return status;
}

int ListenSession::run() {
  catch_stop_signals();
  if (int rc = open(); rc != kExitOk) return rc;
  if (progress_wanted(o_.progress, false)) progress_.emplace(Clock::now());
  while (!done()) {
    short events = 0;
    if (echoes_.size() < kMaxQueuedEchoes && !(o_.count && messages_ >= o_.count)) events |= POLLIN;
    if (!echoes_.empty()) events |= POLLOUT;
    short revents = 0;
    const Clock::time_point wake = progress_ ? progress_->next() : Clock::time_point::max();
    switch (wait_fd(sock_.fd(), events, deadline_, revents, wake)) {
      case Wait::Timeout:
        LOG_ERROR("timed out after %llu messages", (unsigned long long)messages_);
        return finish(kExitTimeout);
      case Wait::Stopped: return finish(kExitOk);
      case Wait::Error: return finish(kExitNetwork);
      case Wait::Ready:
      case Wait::Wake: break;
    }
    if (revents & POLLOUT) flush_echoes();
    if (revents & (POLLIN | POLLERR | POLLHUP)) read_available();
    if (error_) return finish(kExitNetwork);
    flush_echoes();  // echoes of what was just read go out without waiting for POLLOUT
    report_progress();
  }
  // Closing the socket shuts the associations down gracefully, after the echoes are delivered.
  return finish(kExitOk);
}

}  // namespace

int run_listen(const ListenOptions& options) {
  ListenSession session(options);
  return session.run();
}

}  // namespace sctprelay::client
