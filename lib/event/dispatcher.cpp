#include "event/dispatcher.h"

#include <exception>
#include <stdexcept>

#include "util/log.h"

namespace sctprelay::event {
namespace {

timeval to_timeval(std::chrono::microseconds us) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(us.count() % 1000000);
  return tv;
}

// libevent's own messages (e.g. evhttp's "listen: Address already in use") go to our log, with
// our prefixes, instead of raw lines on stderr.
void libevent_log(int severity, const char* msg) noexcept {
  switch (severity) {
    case EVENT_LOG_DEBUG: LOG_DEBUG("libevent: %s", msg); break;
    case EVENT_LOG_MSG: LOG_INFO("libevent: %s", msg); break;
    case EVENT_LOG_WARN: LOG_WARN("libevent: %s", msg); break;
    default: LOG_ERROR("libevent: %s", msg); break;
  }
}

// The one place where a callback's exception is stopped: it must never unwind through libevent.
template <class F>
void guarded(const char* what, F&& f) noexcept {
  try {
    f();
  } catch (const std::exception& e) {
    LOG_ERROR("%s callback failed: %s", what, e.what());
  } catch (...) {
    LOG_ERROR("%s callback failed with an unknown exception", what);
  }
}

}  // namespace

FileEvent::FileEvent(event_base* base, int fd, Callback cb) : base_(base), fd_(fd), cb_(std::move(cb)) {}

FileEvent::~FileEvent() {
  if (assigned_) event_del(&ev_);
}

void FileEvent::watch(uint32_t mask) {
  if (mask == mask_ && assigned_) return;
  if (assigned_) event_del(&ev_);
  mask_ = mask;
  short what = EV_PERSIST;
  if (mask & Readable) what |= EV_READ;
  if (mask & Writable) what |= EV_WRITE;
  event_assign(&ev_, base_, fd_, what, &FileEvent::trampoline, this);
  assigned_ = true;
  if (mask) event_add(&ev_, nullptr);
}

void FileEvent::trampoline(evutil_socket_t, short what, void* arg) noexcept {
  auto* self = static_cast<FileEvent*>(arg);
  uint32_t ready = 0;
  if (what & EV_READ) ready |= Readable;
  if (what & EV_WRITE) ready |= Writable;
  guarded("file event", [&] { self->cb_(ready); });
}

Timer::Timer(event_base* base, Callback cb) : cb_(std::move(cb)) {
  evtimer_assign(&ev_, base, &Timer::trampoline, this);
}
Timer::~Timer() { event_del(&ev_); }
void Timer::arm(std::chrono::microseconds after) {
  timeval tv = to_timeval(after);
  evtimer_add(&ev_, &tv);
}
void Timer::disarm() { event_del(&ev_); }
bool Timer::armed() const { return evtimer_pending(const_cast<::event*>(&ev_), nullptr); }
void Timer::trampoline(evutil_socket_t, short, void* arg) noexcept {
  auto* self = static_cast<Timer*>(arg);
  guarded("timer", [&] { self->cb_(); });
}

SignalEvent::SignalEvent(event_base* base, int signo, Callback cb) : cb_(std::move(cb)) {
  evsignal_assign(&ev_, base, signo, &SignalEvent::trampoline, this);
  evsignal_add(&ev_, nullptr);
}
SignalEvent::~SignalEvent() { event_del(&ev_); }
void SignalEvent::trampoline(evutil_socket_t, short, void* arg) noexcept {
  auto* self = static_cast<SignalEvent*>(arg);
  guarded("signal", [&] { self->cb_(); });
}

Dispatcher::Dispatcher() : base_(event_base_new()) {
  event_set_log_callback(libevent_log);
  if (!base_) throw std::runtime_error("event_base_new failed");
}

std::unique_ptr<FileEvent> Dispatcher::file_event(int fd, FileEvent::Callback cb) {
  return std::make_unique<FileEvent>(base(), fd, std::move(cb));
}
std::unique_ptr<Timer> Dispatcher::timer(Timer::Callback cb) {
  return std::make_unique<Timer>(base(), std::move(cb));
}
std::unique_ptr<SignalEvent> Dispatcher::signal(int signo, SignalEvent::Callback cb) {
  return std::make_unique<SignalEvent>(base(), signo, std::move(cb));
}

bool Dispatcher::run() { return event_base_loop(base(), 0) >= 0; }
void Dispatcher::exit() { event_base_loopbreak(base()); }

}  // namespace sctprelay::event
