#include "relay/workers.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <thread>

#include "util/log.h"

namespace sctprelay::relay {

unsigned worker_count(const config::Workers& w) {
  if (!w.automatic) return std::max(1u, w.count);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  unsigned n = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? static_cast<unsigned>(CPU_COUNT(&cpus))
                                                           : std::thread::hardware_concurrency();
  return std::clamp(n, 1u, config::Workers::kMax);
}

// A worker other than the first: its loop, the inbox through which other threads reach it, its
// relay (built and destroyed while the thread is not running, used only on it in between).
struct Workers::Worker {
  Worker(unsigned index, unsigned count, SharedCounts& shared, Placement& placement)
      : inbox(loop), relay(std::make_unique<Relay>(loop, WorkerPlace{index, count, &shared, &placement})) {}

  event::Dispatcher loop;
  event::Inbox inbox;
  std::unique_ptr<Relay> relay;
  std::atomic<bool> probe_pending{false};  // all_turning()'s probe not run yet
  std::thread thread;
};

template <class F>
auto Workers::on_worker(Worker& w, F&& work) const -> decltype(work()) {
  return w.inbox.call(std::forward<F>(work));
}

Workers::Workers(event::Dispatcher& main, unsigned count)
    : placement_(count),
      main_inbox_(main),
      first_(std::make_unique<Relay>(
          main, WorkerPlace{0, count, count > 1 ? &shared_ : nullptr, count > 1 ? &placement_ : nullptr})) {
  // Signals are the main thread's (its loop has their handlers): the others block them all.
  sigset_t all, before;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &before);
  for (unsigned i = 1; i < count; ++i) {
    auto w = std::make_unique<Worker>(i, count, shared_, placement_);
    Worker* self = w.get();
    w->thread = std::thread([self, i] {
      std::string name = "sctprelayd/" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      if (!self->loop.run()) LOG_ERROR("worker %u: its event loop failed", i);
    });
    others_.push_back(std::move(w));
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  // Set before any relay has a configuration (so before any association arrives); others_ does not
  // change from here on.
  placement_.run_on = [this](unsigned to, std::function<void(Relay&)> work) {
    if (to == 0) {
      main_inbox_.post([this, work = std::move(work)] { work(*first_); });
      return;
    }
    Worker* w = others_[to - 1].get();
    w->inbox.post([w, work = std::move(work)] { work(*w->relay); });
  };
}

Workers::~Workers() {
  for (auto& w : others_) {
    Worker* self = w.get();
    w->inbox.post([self] { self->loop.exit(); });
  }
  for (auto& w : others_) {
    if (w->thread.joinable()) w->thread.join();
    w->relay.reset();  // its sockets and events go while no loop runs them
  }
}

template <class F>
auto Workers::on_each(unsigned i, F&& work) -> decltype(work(std::declval<Relay&>())) {
  if (i == 0) return work(*first_);
  Worker& w = *others_[i - 1];
  return on_worker(w, [&] { return work(*w.relay); });
}

// Listeners change on every worker or on none (the steps: listeners.cpp); the rest of the
// configuration cannot fail once they have.
bool Workers::apply(const config::Config& cfg, std::string& error) {
  const unsigned n = count();
  std::string why;
  auto refuse = [&](unsigned failed, unsigned bound) {
    error = failed == 0 ? why : "worker " + std::to_string(failed) + ": " + why;
    for (unsigned i = 0; i < bound; ++i) on_each(i, [](Relay& r) { r.abandon_listeners(); });
    for (unsigned i = 0; i < bound; ++i) on_each(i, [](Relay& r) { r.restore_listeners(); });
    return false;
  };
  for (unsigned i = 0; i < n; ++i)
    if (!on_each(i, [&](Relay& r) { return r.bind_listeners(cfg, why); })) return refuse(i, i);
  bool rebind = false;
  for (unsigned i = 0; i < n; ++i) rebind = on_each(i, [](Relay& r) { return r.must_rebind(); }) || rebind;
  if (rebind) {
    for (unsigned i = 0; i < n; ++i) on_each(i, [](Relay& r) { r.release_rebound(); });
    for (unsigned i = 0; i < n; ++i)
      if (!on_each(i, [&](Relay& r) { return r.rebind_listeners(cfg, why); })) return refuse(i, n);
  }
  for (unsigned i = 0; i < n; ++i) on_each(i, [&](Relay& r) { r.commit(cfg); });
  for (unsigned i = 0; i < n; ++i) on_each(i, [](Relay& r) { r.start_listeners(); });
  return true;
}

void Workers::stop(std::chrono::milliseconds deadline, std::function<void()> done) {
  all_stopped_ = std::move(done);
  stopped_ = 0;
  auto one_stopped = [this] {
    if (++stopped_ == count() && all_stopped_) std::exchange(all_stopped_, nullptr)();
  };
  first_->stop(deadline, one_stopped);
  for (auto& w : others_) {
    Worker* self = w.get();
    w->inbox.post([this, self, deadline, one_stopped] {
      self->relay->stop(deadline, [this, one_stopped] { main_inbox_.post(one_stopped); });
    });
  }
}

Stats Workers::stats() const {
  Stats total = first_->stats();
  for (auto& w : others_) total.add(on_worker(*w, [&] { return w->relay->stats(); }));
  return total;
}

RelayStatus Workers::status(const Relay::StatusQuery& q) const {
  std::vector<RelayStatus> parts;
  parts.reserve(count());
  parts.push_back(first_->status(q));
  for (auto& w : others_) parts.push_back(on_worker(*w, [&] { return w->relay->status(q); }));
  if (parts.size() == 1) return std::move(parts.front());
  return merge_status(std::move(parts));
}

bool Workers::set_drained(const std::string& name, bool drained, std::string& error) {
  if (!first_->set_drained(name, drained, error)) return false;
  for (auto& w : others_) {
    std::string ignored;  // the same configuration: the same answer
    on_worker(*w, [&] { return w->relay->set_drained(name, drained, ignored); });
  }
  return true;
}

bool Workers::disconnect(uint64_t id, bool abort, std::string& error, std::string* label) {
  const std::size_t which = id % count();
  if (which == 0) return first_->disconnect(id, abort, error, label);
  Worker& w = *others_[which - 1];
  return on_worker(w, [&] { return w.relay->disconnect(id, abort, error, label); });
}

bool Workers::all_turning() {
  bool all = true;
  for (auto& w : others_) {
    if (w->probe_pending.load()) {
      all = false;
      continue;
    }
    w->probe_pending = true;
    Worker* self = w.get();
    w->inbox.post([self] { self->probe_pending = false; });
  }
  return all;
}

}  // namespace sctprelay::relay
