#include "config/background_load.h"

#include <system_error>

namespace sctprelay::config {

BackgroundLoad::BackgroundLoad(event::Dispatcher& dispatcher, std::string path, Done done, LoadLimits limits)
    : dispatcher_(dispatcher),
      path_(std::move(path)),
      done_(std::move(done)),
      limits_(limits),
      deadline_(dispatcher.timer([this] { finish(child_->kill_at_deadline()); })),
      // Every load starts from its own callback: never from inside the report pipe's event (which
      // start() replaces), nor inside the caller's.
      restart_(dispatcher.timer([this] { start(); })) {}

BackgroundLoad::~BackgroundLoad() { cancel(); }

void BackgroundLoad::request() {
  again_ = true;
  if (!child_) restart_->arm(std::chrono::microseconds(0));
}

void BackgroundLoad::cancel() {
  again_ = false;
  restart_->disarm();
  deadline_->disarm();
  if (watch_) watch_->watch(0);
  child_.reset();  // kills and reaps it
}

void BackgroundLoad::start() {
  again_ = false;
  BoundedLoadResult result;
  auto text = read_config_file(path_, limits_.max_bytes, result);
  if (!text) {
    done_(std::move(result));
    return;
  }
  text_ = std::move(*text);
  try {
    child_ = start_bounded_check(text_, path_, limits_);
  } catch (const std::system_error& e) {
    done_(refusal(path_, std::string("cannot start the bounded check: ") + e.what()));
    return;
  }
  watch_ = dispatcher_.file_event(child_->fd(), [this](uint32_t) { child_ready(); });
  watch_->watch(event::Readable);
  deadline_->arm(std::chrono::duration_cast<std::chrono::microseconds>(limits_.max_time));
}

void BackgroundLoad::child_ready() {
  if (child_ && child_->read_report()) finish(child_->finish());
}

void BackgroundLoad::finish(const ChildEnd& end) {
  // The pipe's event stays (it is this call's caller, maybe); it just stops watching.
  watch_->watch(0);
  deadline_->disarm();
  child_.reset();
  BoundedLoadResult result = conclude_bounded_check(end, text_, path_, limits_);
  text_.clear();
  text_.shrink_to_fit();
  done_(std::move(result));
  if (again_) restart_->arm(std::chrono::microseconds(0));
}

}  // namespace sctprelay::config
