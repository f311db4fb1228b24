#include "event/inbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sctprelay::event {

Inbox::Inbox(Dispatcher& loop) : wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!wake_) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  watch_ = loop.file_event(wake_.get(), [this](uint32_t) { run_posted(); });
  watch_->watch(Readable);
}

Inbox::~Inbox() = default;

void Inbox::post(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(work));
  }
  const uint64_t one = 1;
  // The counter cannot overflow in practice (2^64 - 2 posts unread); EAGAIN would mean it did,
  // and the loop is awake then anyway.
  [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

void Inbox::run_posted() {
  uint64_t count;
  [[maybe_unused]] ssize_t n = ::read(wake_.get(), &count, sizeof count);
  std::deque<std::function<void()>> work;
  {
    std::lock_guard lock(mutex_);
    work.swap(posted_);
  }
  for (auto& w : work) w();
}

}  // namespace sctprelay::event
