// Thin RAII layer over libevent: one Dispatcher per thread hands out owning file, timer and signal
// events. Each event object stores its libevent `event` by value and removes it in its destructor,
// so an owner's members tear down cleanly. C callbacks never let an exception escape.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <chrono>
#include <functional>
#include <memory>

namespace sctprelay::event {

template <auto Free>
struct FreeWith {
  template <class T>
  void operator()(T* p) const { Free(p); }
};
using BasePtr = std::unique_ptr<event_base, FreeWith<event_base_free>>;

enum Ready : uint32_t { Readable = 1, Writable = 2 };

class FileEvent {
 public:
  using Callback = std::function<void(uint32_t ready)>;
  FileEvent(event_base* base, int fd, Callback cb);
  ~FileEvent();
  FileEvent(const FileEvent&) = delete;
  FileEvent& operator=(const FileEvent&) = delete;

  // Which readiness to watch: a mask of Readable|Writable; 0 stops watching.
  void watch(uint32_t mask);
  uint32_t watching() const { return mask_; }

 private:
  static void trampoline(evutil_socket_t, short what, void* arg) noexcept;
  ::event ev_{};
  event_base* base_;
  int fd_;
  uint32_t mask_ = 0;
  bool assigned_ = false;
  Callback cb_;
};

class Timer {
 public:
  using Callback = std::function<void()>;
  Timer(event_base* base, Callback cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(std::chrono::microseconds after);
  void disarm();
  bool armed() const;

 private:
  static void trampoline(evutil_socket_t, short, void* arg) noexcept;
  ::event ev_{};
  Callback cb_;
};

class SignalEvent {
 public:
  using Callback = std::function<void()>;
  SignalEvent(event_base* base, int signo, Callback cb);
  ~SignalEvent();
  SignalEvent(const SignalEvent&) = delete;
  SignalEvent& operator=(const SignalEvent&) = delete;

 private:
  static void trampoline(evutil_socket_t, short, void* arg) noexcept;
  ::event ev_{};
  Callback cb_;
};

class Dispatcher {
 public:
  Dispatcher();
  event_base* base() const { return base_.get(); }

  std::unique_ptr<FileEvent> file_event(int fd, FileEvent::Callback cb);
  std::unique_ptr<Timer> timer(Timer::Callback cb);
  std::unique_ptr<SignalEvent> signal(int signo, SignalEvent::Callback cb);

  // Runs until exit() (or no events remain). Returns false on a libevent error.
  bool run();
  void exit();

  const char* backend() const { return event_base_get_method(base_.get()); }

 private:
  BasePtr base_;
};

}  // namespace sctprelay::event
