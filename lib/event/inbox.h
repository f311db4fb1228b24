// Work handed to a Dispatcher's loop from other threads: post() queues a closure and wakes the
// loop through an eventfd; the loop runs the closures in the order posted. call() posts and waits
// for the result, so a thread can ask another loop a question (the workers' status, a reload).
// The one way threads talk to each other here: nothing else is shared between loops.
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>

#include "event/dispatcher.h"
#include "util/unique_fd.h"

namespace sctprelay::event {

class Inbox {
 public:
  // Watches its eventfd on `loop` (the loop's own thread builds it, or builds it before the loop
  // runs).
  explicit Inbox(Dispatcher& loop);
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // From any thread: `work` runs on the loop's thread, after what was posted before it.
  void post(std::function<void()> work);

  // From another thread: runs `work` on the loop and returns its result (blocks until then).
  // Never from the loop's own thread: it would wait for itself.
  template <class F>
  auto call(F&& work) -> decltype(work()) {
    using R = decltype(work());
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(work));
    std::future<R> result = task->get_future();
    post([task] { (*task)(); });
    return result.get();
  }

 private:
  void run_posted();

  UniqueFd wake_;
  std::unique_ptr<FileEvent> watch_;
  std::mutex mutex_;
  std::deque<std::function<void()>> posted_;
};

}  // namespace sctprelay::event
