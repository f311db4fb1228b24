// Workers without SCTP: the `workers:` key, the inbox threads talk through, and how the workers'
// status adds up (the relays themselves run in the VM: tests/integration/relay_workers_test.cpp).
#include <gtest/gtest.h>

#include <thread>

#include "config/loader.h"
#include "config_helpers.h"
#include "event/dispatcher.h"
#include "event/inbox.h"
#include "relay/status.h"
#include "relay/placement.h"
#include "relay/workers.h"

namespace sctprelay {
namespace {

using test::Lines;
using test::load_ok;
using test::errors_of;
using test::with_listener;

TEST(ConfigWorkers, OneUnlessGiven) {
  config::Config c = load_ok(with_listener(""));
  EXPECT_EQ(relay::worker_count(c.workers), 1u);
  EXPECT_EQ(c.workers.where.line, 0);
}

TEST(ConfigWorkers, NumberOrAuto) {
  config::Config c = load_ok(with_listener("workers: 4\n"));
  EXPECT_EQ(relay::worker_count(c.workers), 4u);
  EXPECT_EQ(c.workers.where.line, 3);
  c = load_ok(with_listener("workers: auto\n"));
  EXPECT_TRUE(c.workers.automatic);
  const unsigned cpus = relay::worker_count(c.workers);
  EXPECT_GE(cpus, 1u);
  EXPECT_LE(cpus, std::max(1u, std::thread::hardware_concurrency()));
}

TEST(ConfigWorkers, BadValuesSayWhatIsAllowed) {
  EXPECT_EQ(errors_of(with_listener("workers: 0\n")),
            Lines({"t.yaml:3:10: workers: 0 is out of range 1..64"}));
  EXPECT_EQ(errors_of(with_listener("workers: 65\n")),
            Lines({"t.yaml:3:10: workers: 65 is out of range 1..64"}));
  EXPECT_EQ(errors_of(with_listener("workers: many\n")),
            Lines({"t.yaml:3:10: workers: expected a number of workers from 1 to 64 or \"auto\" (one per CPU)"}));
  EXPECT_EQ(errors_of(with_listener("workers: [2]\n")),
            Lines({"t.yaml:3:10: workers: expected a number of workers from 1 to 64 or \"auto\" (one per CPU)"}));
}

TEST(ConfigWorkers, GroupsNeedOneWorker) {
  const std::string groups = R"(destinations:
  - {name: enbs, kind: group, listener: ran}
routes:
  - {from: ran, to: enbs}
)";
  load_ok(with_listener(groups));
  EXPECT_EQ(errors_of(with_listener("workers: 2\n" + groups)),
            Lines({"t.yaml:5:12: destinations[0].name: destination \"enbs\" is a group, which needs workers: 1 "
                   "(line 3 asks for 2): a group's members must all be accepted by one event loop"}));
}

// Closures posted from other threads run on the loop's thread, each thread's in its order.
TEST(Inbox, RunsPostedWorkOnTheLoopInOrder) {
  event::Dispatcher loop;
  event::Inbox inbox(loop);
  std::vector<int> seen;
  std::thread::id ran_on;
  constexpr int kEach = 1000;
  std::thread a([&] {
    for (int i = 0; i < kEach; ++i) inbox.post([&, i] { seen.push_back(i); });
  });
  std::thread b([&] {
    for (int i = 0; i < kEach; ++i) inbox.post([&, i] { seen.push_back(kEach + i); });
  });
  a.join();
  b.join();
  inbox.post([&] {
    ran_on = std::this_thread::get_id();
    loop.exit();
  });
  ASSERT_TRUE(loop.run());
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  ASSERT_EQ(seen.size(), 2u * kEach);
  int next_a = 0, next_b = kEach;
  for (int v : seen) {
    if (v < kEach) EXPECT_EQ(v, next_a++);
    else EXPECT_EQ(v, next_b++);
  }
}

// call() from another thread returns what the loop computed.
TEST(Inbox, CallWaitsForTheAnswer) {
  event::Dispatcher loop;
  event::Inbox inbox(loop);
  int on_loop = 0;
  std::thread loop_thread([&] { loop.run(); });
  for (int i = 1; i <= 100; ++i) EXPECT_EQ(inbox.call([&] { return on_loop += i; }), i * (i + 1) / 2);
  inbox.post([&] { loop.exit(); });
  loop_thread.join();
}

relay::RelayStatus part(unsigned worker, uint64_t received, uint64_t first_id) {
  relay::RelayStatus s;
  s.totals.received = received;
  s.totals.forwarded = received * 2;
  s.totals.queued_bytes_peak = 100;
  relay::ListenerStatus l;
  l.name = "ran";
  l.associations = 1;
  l.accepted_total = 2;
  l.traffic.messages_in = received;
  l.traffic.drops[static_cast<std::size_t>(relay::DropReason::NoRoute)] = 1;
  s.listeners.push_back(l);
  relay::DestinationStatus d;
  d.name = "core";
  d.state = worker == 0 ? "up" : "connecting";
  d.associations = worker == 0 ? 1 : 0;
  d.connect_attempts = 3;
  d.last_error = "refused " + std::to_string(worker);
  d.last_error_at = 1000 + worker;
  s.destinations.push_back(d);
  relay::RouteStatus r;
  r.name = "r";
  r.matched_messages = received;
  r.matched_bytes = received * 10;
  r.targets.push_back({"core", false, received, received * 10, {}});
  s.routes.push_back(r);
  relay::AssociationStatus a;
  a.id = first_id;
  a.worker = worker;
  s.associations.push_back(a);
  relay::ClosedAssociation c;
  c.id = first_id + 10;
  c.closed_at = 50 - worker;
  s.closed.push_back(c);
  return s;
}

TEST(MergeStatus, SumsCountersAndListsEachAssociationOnce) {
  relay::RelayStatus m = relay::merge_status({part(0, 5, 4), part(1, 7, 3)});
  EXPECT_EQ(m.workers, 2u);
  EXPECT_EQ(m.totals.received, 12u);
  EXPECT_EQ(m.totals.forwarded, 24u);
  EXPECT_EQ(m.totals.queued_bytes_peak, 200u);
  ASSERT_EQ(m.listeners.size(), 1u);
  EXPECT_EQ(m.listeners[0].associations, 2u);
  EXPECT_EQ(m.listeners[0].accepted_total, 4u);
  EXPECT_EQ(m.listeners[0].traffic.messages_in, 12u);
  EXPECT_EQ(m.listeners[0].traffic.drops[static_cast<std::size_t>(relay::DropReason::NoRoute)], 2u);
  ASSERT_EQ(m.destinations.size(), 1u);
  EXPECT_EQ(m.destinations[0].state, "partial");  // up on one worker, connecting on the other
  EXPECT_EQ(m.destinations[0].associations, 1u);
  EXPECT_EQ(m.destinations[0].connect_attempts, 6u);
  EXPECT_EQ(m.destinations[0].last_error, "refused 1");  // the later one
  ASSERT_EQ(m.routes.size(), 1u);
  EXPECT_EQ(m.routes[0].matched_messages, 12u);
  EXPECT_EQ(m.routes[0].matched_bytes, 120u);
  EXPECT_EQ(m.routes[0].targets[0].messages, 12u);
  ASSERT_EQ(m.associations.size(), 2u);
  EXPECT_EQ(m.associations[0].id, 3u);  // by id, whichever worker
  EXPECT_EQ(m.associations[0].worker, 1u);
  EXPECT_EQ(m.associations[1].id, 4u);
  ASSERT_EQ(m.closed.size(), 2u);
  EXPECT_EQ(m.closed[0].closed_at, 49);  // by time
}

TEST(MergeStatus, OneWorkerIsItself) {
  relay::RelayStatus m = relay::merge_status({part(0, 5, 1)});
  EXPECT_EQ(m.totals.received, 5u);
  EXPECT_EQ(m.destinations[0].state, "up");
}

TEST(StatsAdd, AddsEveryField) {
  relay::Stats a, b;
  uint64_t v = 1;
  for (const auto& [name, field] : relay::Stats::kFields) {
    a.*field = v;
    b.*field = 100 * v++;
  }
  a.add(b);
  v = 1;
  for (const auto& [name, field] : relay::Stats::kFields) EXPECT_EQ(a.*field, 101 * v++) << name;
}

// A new association goes to the worker carrying the fewest, its own on a tie: 8 arriving all on
// worker 0 end up 4 and 4; ends make room where they happen.
TEST(Placement, EvensOutWhereTheKernelPutNewAssociations) {
  relay::Placement p(2);
  std::vector<unsigned> to;
  for (int i = 0; i < 8; ++i) to.push_back(p.place(0, true));
  EXPECT_EQ(to, (std::vector<unsigned>{0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_EQ(p.carried(0), 4u);
  EXPECT_EQ(p.carried(1), 4u);
  EXPECT_EQ(p.place(1, true), 1u);  // a tie: it stays where it was accepted
  p.left(1);
  p.left(1);
  EXPECT_EQ(p.place(0, true), 1u);  // worker 1 now carries fewer
  EXPECT_EQ(p.place(0, false), 0u);  // one that cannot move is counted where it is
  EXPECT_EQ(p.carried(0), 5u);
  EXPECT_EQ(p.carried(1), 4u);
}

TEST(Placement, ThreeWorkersFillTheLeastCarriedFirst) {
  relay::Placement p(3);
  std::vector<std::size_t> n(3);
  for (int i = 0; i < 30; ++i) n[p.place(unsigned(i % 2), true)]++;  // the kernel never picks worker 2
  EXPECT_EQ(n, (std::vector<std::size_t>{10, 10, 10}));
}

TEST(Placement, AnItemOutlivesItsBatch) {
  std::vector<uint8_t> buffer{1, 2, 3, 4};
  sctp::Received item;
  item.status = sctp::RecvStatus::Message;
  item.info.stream = 7;
  item.info.ppid = 46;
  item.payload = buffer;
  sctp::Received copy = relay::owned_copy(item);
  buffer.assign(4, 0);
  EXPECT_EQ(copy.status, sctp::RecvStatus::Message);
  EXPECT_EQ(copy.info.stream, 7);
  EXPECT_EQ(copy.info.ppid, 46u);
  EXPECT_EQ(copy.data, (std::vector<uint8_t>{1, 2, 3, 4}));
}

}  // namespace
}  // namespace sctprelay
