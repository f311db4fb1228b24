// The daemon's relays, one per worker (`workers: N` in the config, docs/workers.md). Worker 0 is
// the caller's own loop and thread; every other worker has a loop and a thread of its own, with
// its own socket per listener (SO_REUSEPORT: the kernel gives each new association to one of
// them; the worker that reads its COMM_UP hands it to the worker carrying the fewest, where it
// stays: placement.h) and its own association to each destination. So an
// association's messages are read, routed and sent by one thread, in order, and threads share no
// traffic state: they talk only through each loop's Inbox (configuration, status, stop).
//
// The interface is Relay's: the daemon's plumbing (daemon/service.cpp) does not care how many
// workers there are. With one worker there is no other thread and nothing is handed anywhere.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event/dispatcher.h"
#include "event/inbox.h"
#include "relay/placement.h"
#include "relay/relay.h"
#include "relay/worker_place.h"

namespace sctprelay::relay {

// How many workers `workers:` asks for here: `auto` is the CPUs this process may run on.
unsigned worker_count(const config::Workers& w);

class Workers {
 public:
  // `count` relays: worker 0 on `main` (the caller's loop), the others started here, each on a
  // thread of its own that runs until this is destroyed.
  Workers(event::Dispatcher& main, unsigned count);
  ~Workers();  // ends the other loops and joins their threads
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  unsigned count() const { return static_cast<unsigned>(others_.size()) + 1; }

  // Puts a validated config in force on every worker, or (false, `error` says why: a listener
  // cannot be bound) on none: the steps Relay lists, each run on every worker's loop in turn.
  bool apply(const config::Config& cfg, std::string& error);
  // Relay::stop in every worker; `done` runs on the main loop once all have stopped.
  void stop(std::chrono::milliseconds deadline, std::function<void()> done);

  Stats stats() const;                                   // summed
  RelayStatus status(const Relay::StatusQuery& q) const;  // merged (merge_status)
  bool set_drained(const std::string& name, bool drained, std::string& error);
  // The association's id says which worker has it (ids are that worker's residue, see
  // AssociationTable).
  bool disconnect(uint64_t id, bool abort, std::string& error, std::string* label = nullptr);

  // True when every other loop ran the previous check's probe since it was posted, i.e. none is
  // stuck; posts the next probe. The systemd watchdog is fed only while this holds.
  bool all_turning();

 private:
  struct Worker;

  template <class F>
  auto on_worker(Worker& w, F&& work) const -> decltype(work());
  // work(relay) on worker i's loop (0: this thread's), waiting for it.
  template <class F>
  auto on_each(unsigned i, F&& work) -> decltype(work(std::declval<Relay&>()));

  SharedCounts shared_;
  Placement placement_;  // which worker carries each new association (placement.h)
  event::Inbox main_inbox_;  // the other workers report their stop here
  std::unique_ptr<Relay> first_;
  std::vector<std::unique_ptr<Worker>> others_;
  std::size_t stopped_ = 0;
  std::function<void()> all_stopped_;
};

}  // namespace sctprelay::relay
