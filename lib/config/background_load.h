// A reload's bounded load (bounded_load.h), run from the event loop without blocking it: the file
// is read, its check starts in a child, and the loop goes on relaying while the Dispatcher watches
// the child's report pipe and a deadline timer. When the child ends (or is killed at the deadline)
// `done` gets the result. A request while a load runs is remembered, and one more load (reading
// the file again) starts after the running one is done: any number of SIGHUPs during a check make
// one more load, not many. Destroying it, or cancel(), kills a running child and forgets a request.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/bounded_load.h"
#include "event/dispatcher.h"

namespace sctprelay::config {

class BackgroundLoad {
 public:
  using Done = std::function<void(BoundedLoadResult)>;
  BackgroundLoad(event::Dispatcher& dispatcher, std::string path, Done done, LoadLimits limits = {});
  ~BackgroundLoad();
  BackgroundLoad(const BackgroundLoad&) = delete;
  BackgroundLoad& operator=(const BackgroundLoad&) = delete;

  // Starts a load (from the loop's next turn), or one more after the running one.
  void request();
  // A load runs or is asked for: while `done` runs, true if another load will follow.
  bool busy() const { return child_ != nullptr || again_; }
  // A check has started (its child read the file) and has not finished.
  bool checking() const { return child_ != nullptr; }
  void cancel();

 private:
  void start();
  void child_ready();
  void finish(const ChildEnd& end);

  event::Dispatcher& dispatcher_;
  std::string path_;
  Done done_;
  LoadLimits limits_;
  std::string text_;  // the bytes the child checks, loaded here once it has finished
  std::unique_ptr<BoundedChild> child_;
  std::unique_ptr<event::FileEvent> watch_;
  std::unique_ptr<event::Timer> deadline_;
  std::unique_ptr<event::Timer> restart_;
  bool again_ = false;
};

}  // namespace sctprelay::config
