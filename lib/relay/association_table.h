// The one owner of every Association. Others name an association by its id and look it up here;
// a retired one is no longer found, and is deleted only on the loop's next turn, so a callback
// running on it (or a caller holding it through a batch) never touches freed memory — the
// deferred delete of Envoy's dispatcher.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "event/dispatcher.h"
#include "relay/association.h"

namespace sctprelay::relay {

class AssociationTable {
 public:
  // Ids are first_id + k * step (k = 1, 2, ...): every worker's table its own residue, so an id
  // names one association in the whole daemon, and id % step says whose it is.
  explicit AssociationTable(event::Dispatcher& dispatcher, uint64_t first_id = 0, uint64_t step = 1)
      : reaper_(dispatcher.timer([this] { retired_.clear(); })), last_id_(first_id), step_(step) {}
  ~AssociationTable() {
    retired_.clear();
    live_.clear();
  }
  AssociationTable(const AssociationTable&) = delete;
  AssociationTable& operator=(const AssociationTable&) = delete;

  Association& create(Association::Role role, std::string label) {
    uint64_t id = last_id_ += step_;
    auto a = std::make_unique<Association>(id, role, std::move(label));
    Association& ref = *a;
    live_.emplace(id, std::move(a));
    return ref;
  }

  // The live association with this id, or nullptr (never one that is retired).
  Association* find(uint64_t id) const {
    auto it = live_.find(id);
    return it == live_.end() ? nullptr : it->second.get();
  }

  // Takes it out of the table; it stays valid until the loop's next turn. Callers unhook it from
  // everything that names it first (Relay::retire).
  void retire(Association& a) {
    auto it = live_.find(a.id);
    if (it == live_.end()) return;
    a.retired = true;
    a.update_watch();  // stop watching its socket now; the socket closes when it is deleted
    retired_.push_back(std::move(it->second));
    live_.erase(it);
    // Armed once, not again: re-adding a timer that is due (libevent: active with EV_TIMEOUT)
    // takes it off the active list and puts it off to the next turn. Under churn some callback
    // before it in every turn retired an association, so the reaper never ran and every retired
    // association was kept until the loop went idle (20,000 of them, 8.8 MB, in 20,000 set-ups).
    if (!reaper_->armed()) reaper_->arm(std::chrono::microseconds(0));
  }

  template <class F>
  void for_each(F&& f) const {
    for (auto& [_, a] : live_) f(*a);
  }
  // The live associations, for loops that may retire some of them while they run.
  std::vector<Association*> snapshot() const {
    std::vector<Association*> out;
    out.reserve(live_.size());
    for (auto& [_, a] : live_) out.push_back(a.get());
    return out;
  }
  std::size_t size() const { return live_.size(); }

 private:
  std::unordered_map<uint64_t, std::unique_ptr<Association>> live_;
  std::vector<std::unique_ptr<Association>> retired_;
  std::unique_ptr<event::Timer> reaper_;
  uint64_t last_id_;
  uint64_t step_;
};

}  // namespace sctprelay::relay
