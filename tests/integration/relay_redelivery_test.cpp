// A destination that gets stuck and dies: the other destinations' traffic keeps flowing meanwhile,
// and what the dead one never got reaches its next instance whole, in order, and only duplicated
// where the relay says it may have been.
//
// The destination is `sctprelay-client listen` in a process of its own, stopped with SIGSTOP and
// killed with SIGKILL. What it was given is what it printed, plus what its kernel had already
// acknowledged but it had not read yet when it died: SCTP acknowledges data on arrival in the
// receiver's kernel, so no relay can send those messages again. The test takes a duplicate of the
// process's socket before killing it and reads them itself (harness/takeover.h), so the accounting
// is exact: every message must be printed by the first instance, read from its socket, or printed by
// the second one.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "harness/client_sink.h"
#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/takeover.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Message `n` of source `source` carries sequence number source * kSeqBase + n (payload() names it).
constexpr uint64_t kSeqBase = 1000000;

struct Arrived {
  uint16_t stream;
  uint32_t ppid;
  std::string data;
};

Arrived arrived(const PrintedMessage& m) { return {m.stream, m.ppid, m.data}; }
Arrived arrived(const Msg& m) { return {m.info.stream, m.info.ppid, m.text()}; }

// What a set of sources sent to one destination: message n of source s has `size(s, n)` bytes,
// goes on stream `stream(s, n)` with PPID `ppid(s)`.
struct Traffic {
  int sources;
  std::function<std::size_t(int, uint64_t)> size;
  std::function<uint16_t(int, uint64_t)> stream;
  std::function<uint32_t(int)> ppid;

  std::string message(int s, uint64_t n) const {
    return payload(size(s, n), s * kSeqBase + n, stream(s, n));
  }
  bool send(Peer& peer, int s, uint64_t first, uint64_t last) const {
    for (uint64_t n = first; n < last; ++n)
      if (!peer.send(message(s, n), stream(s, n), ppid(s), false, 0, Deadline::in(seconds(60)))) return false;
    return true;
  }
};

struct Verdict {
  std::string problems;    // empty when everything arrived as it should
  uint64_t duplicates = 0;  // messages the second instance got that the first had already
};

// Checks what one destination got over two lifetimes against what was sent (`sent[s]` messages of
// source s): `before` is what the first instance got (printed, then read from its socket), `after`
// what the second printed. Each message must be whole (bytes, stream, PPID); per (source, stream)
// the first instance must have got 0..k-1 in order and the second j..end in order, with j <= k:
// nothing lost, and the k - j messages both got are duplicates.
Verdict check_two_lives(const Traffic& t, const std::vector<uint64_t>& sent, const std::vector<Arrived>& before,
                        const std::vector<Arrived>& after) {
  std::ostringstream problems;
  using Key = std::pair<int, uint16_t>;
  auto sequences = [&](const std::vector<Arrived>& got, const char* who) {
    std::map<Key, std::vector<uint64_t>> seqs;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < got.size(); ++i) {
      const Arrived& a = got[i];
      auto id = payload_id(a.data);
      if (!id) {
        if (++bad <= 10)
          problems << who << " message " << i << " (" << a.data.size() << " bytes) is not one that was sent\n";
        continue;
      }
      int s = static_cast<int>(id->seq / kSeqBase);
      uint64_t n = id->seq % kSeqBase;
      if (s >= t.sources || n >= sent[s] || a.data != t.message(s, n) || a.stream != t.stream(s, n) ||
          a.ppid != t.ppid(s)) {
        if (++bad <= 10)
          problems << who << " message " << i << " (source " << s << " #" << n << ", " << a.data.size()
                   << " bytes, stream " << a.stream << ", ppid " << a.ppid << ") is not what was sent\n";
        continue;
      }
      seqs[{s, a.stream}].push_back(n);
    }
    if (bad > 10) problems << "... and " << bad - 10 << " more such messages of the " << who << "\n";
    return seqs;
  };
  auto first = sequences(before, "first instance"), second = sequences(after, "second instance");

  Verdict v;
  for (int s = 0; s < t.sources; ++s) {
    // The numbers source s sent on each stream, in order.
    std::map<uint16_t, std::vector<uint64_t>> expected;
    for (uint64_t n = 0; n < sent[s]; ++n) expected[t.stream(s, n)].push_back(n);
    for (auto& [stream, want] : expected) {
      const auto& a = first[{s, stream}];
      const auto& b = second[{s, stream}];
      std::string where = "source " + std::to_string(s) + " stream " + std::to_string(stream) + ": ";
      if (!std::equal(a.begin(), a.end(), want.begin(), want.begin() + std::min(a.size(), want.size())) ||
          a.size() > want.size()) {
        problems << where << "the first instance got them out of order or twice\n";
        continue;
      }
      // The second instance starts at some j <= a.size() and goes on in order to the end.
      auto start = b.empty() ? want.end() : std::find(want.begin(), want.end(), b.front());
      std::size_t j = static_cast<std::size_t>(start - want.begin());
      if (j > a.size()) {
        problems << where << (j - a.size()) << " lost: #" << want[a.size()] << " to #" << want[j - 1] << "\n";
        continue;
      }
      if (b.size() != want.size() - j || !std::equal(b.begin(), b.end(), start)) {
        problems << where << "the second instance got " << b.size() << " messages from #"
                 << (b.empty() ? 0 : b.front()) << ", not #" << (j < want.size() ? want[j] : 0) << " to #"
                 << want.back() << " in order\n";
        continue;
      }
      v.duplicates += a.size() - j;
    }
  }
  v.problems = problems.str();
  return v;
}

uint64_t dropped_total(const std::map<std::string, uint64_t>& stats) {
  uint64_t n = 0;
  for (auto& [key, value] : stats)
    if (key.rfind("dropped_", 0) == 0) n += value;
  return n;
}

// The relay's configuration for these tests: `a` (streams 0-3) and `b` (streams 4-7) on one
// listener; `a` is retried quickly once it is gone.
const char* kTwoDestinations = R"(
limits: {max_message_size: 1MiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}, reconnect: {min: 50ms, max: 200ms}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: "0-3", to: a}
  - {from: in, streams: "4-7", to: b}
)";

// Threads that send for a test. Should the test end early (a failed ASSERT, an exception), the
// destructor ends the associations they may be blocked on and joins them: no thread outlives it.
struct Senders {
  std::vector<std::thread> threads;
  std::vector<Peer*> peers;
  void join() {
    for (auto& t : threads)
      if (t.joinable()) t.join();
  }
  ~Senders() {
    bool early = std::any_of(threads.begin(), threads.end(), [](auto& t) { return t.joinable(); });
    if (early)
      for (Peer* p : peers) p->abort();
    join();
  }
};

// Waits until `done` holds for the messages `sink` has printed; false if the deadline passes first.
bool wait_printed(ClientSink& sink, const std::function<bool(const std::vector<PrintedMessage>&)>& done, Deadline d) {
  for (;;) {
    std::size_t have = sink.messages().size();
    if (done(sink.messages())) return true;
    if (!sink.wait_messages(have + 1, d)) return done(sink.messages());
  }
}

// Kills `a1` the way the test means (see the top of the file) and returns what its kernel had
// acknowledged but it never printed.
std::vector<Msg> kill_taking_unread(ClientSink& a1) {
  TakenSocket socket = TakenSocket::from_process(a1.pid());
  a1.process().signal(SIGKILL);
  EXPECT_EQ(a1.process().wait_exit(), 128 + SIGKILL);
  return socket.abort_and_drain(Deadline::in(seconds(20)));
}

}  // namespace

TEST(RelayRedelivery, AStuckDestinationHoldsNothingElseUpAndItsNextInstanceGetsAllItMissed) {
  uint16_t p = ports_for_test();
  // Sources 0 and 1 send to `a` (streams 0-3), source 2 to `b` (streams 4-7); 1 KB messages.
  Traffic to_a{2, [](int, uint64_t) { return std::size_t(1024); },
               [](int, uint64_t n) { return uint16_t(n % 4); }, [](int s) { return uint32_t(100 + s); }};
  auto b_message = [](uint64_t n) { return payload(1024, 2 * kSeqBase + n, uint16_t(4 + n % 4)); };
  auto a1 = std::make_unique<ClientSink>(p + 1);
  Peer b = Peer::listen(p + 2);
  Daemon relay(with_ports(kTwoDestinations, p));
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  ASSERT_TRUE(relay.saw("destination b up"));
  Peer s0 = Peer::connect(p), s1 = Peer::connect(p), s2 = Peer::connect(p);
  Peer* to_a_peers[] = {&s0, &s1};

  // Phase 1, all well: everything arrives.
  constexpr uint64_t kPhase1 = 100, kToA = 1100, kToB = 1100;
  for (int s = 0; s < 2; ++s) ASSERT_TRUE(to_a.send(*to_a_peers[s], s, 0, kPhase1));
  for (uint64_t n = 0; n < kPhase1; ++n) ASSERT_TRUE(s2.send(b_message(n), uint16_t(4 + n % 4), 102));
  ASSERT_TRUE(a1->wait_messages(2 * kPhase1));
  auto b_got = b.recv_n(kPhase1);
  ASSERT_EQ(b_got.size(), kPhase1);

  // Phase 2: `a` stops (idle: it has printed all it was sent) and its sources go on until the relay
  // holds them back.
  a1->process().signal(SIGSTOP);
  uint64_t pauses = relay.stats()["backpressure_pauses"];
  int a_sent[2] = {1, 1};
  Senders a_senders{{}, {&s0, &s1}};
  for (int s = 0; s < 2; ++s)
    a_senders.threads.emplace_back([&, s] { a_sent[s] = to_a.send(*to_a_peers[s], s, kPhase1, kToA); });
  bool held = relay.wait_stat("backpressure_pauses", pauses + 1, Deadline::in(seconds(30)));

  // b's traffic, from another association of the same listener, flows all the while.
  bool b_sent = true;
  Senders b_sender{{}, {&s2}};
  b_sender.threads.emplace_back([&] {
    for (uint64_t n = kPhase1; n < kToB && b_sent; ++n)
      b_sent = s2.send(b_message(n), uint16_t(4 + n % 4), 102, false, 0, Deadline::in(seconds(30)));
  });
  auto b_rest = b.recv_n(kToB - kPhase1, Deadline::in(seconds(30)));
  b_sender.join();
  EXPECT_TRUE(held) << "the relay never held a's sources back";
  ASSERT_TRUE(b_sent);
  ASSERT_EQ(b_rest.size(), kToB - kPhase1) << "b's traffic stopped while a was stuck";
  for (auto& m : b_rest) b_got.push_back(std::move(m));
  for (uint64_t n = 0; n < kToB; ++n) {
    ASSERT_EQ(b_got[n].text(), b_message(n)) << "b message " << n;
    ASSERT_EQ(b_got[n].info.stream, 4 + n % 4);
    ASSERT_EQ(b_got[n].info.ppid, 102u);
  }
  std::size_t a1_printed = a1->messages().size();
  EXPECT_EQ(a1_printed, 2 * kPhase1) << "a printed while stopped?";

  // `a` dies (kill -9) and a new instance takes its port.
  std::vector<Arrived> before;
  for (auto& m : a1->messages()) before.push_back(arrived(m));
  for (auto& m : kill_taking_unread(*a1)) before.push_back(arrived(m));
  a1.reset();
  ClientSink a2(p + 1);

  // It gets the rest: wait until the last message of every (source, stream) is there.
  std::vector<uint64_t> sent{kToA, kToA};
  auto all_there = [&](const std::vector<PrintedMessage>& got) {
    std::map<std::pair<int, uint16_t>, bool> last_seen;
    for (auto& m : got)
      if (auto id = payload_id(m.data); id && id->seq % kSeqBase + 4 >= kToA) last_seen[{int(id->seq / kSeqBase), m.stream}] = true;
    return last_seen.size() == 8;
  };
  EXPECT_TRUE(wait_printed(a2, all_there, Deadline::in(seconds(40)))) << "the new instance of a did not get everything";
  a_senders.join();
  ASSERT_TRUE(a_sent[0] && a_sent[1]) << "a's sources could not send everything";
  EXPECT_FALSE(a2.wait_messages(a2.messages().size() + 1, Deadline::in(milliseconds(500)))) << "more than expected";

  std::vector<Arrived> after;
  for (auto& m : a2.messages()) after.push_back(arrived(m));
  Verdict v = check_two_lives(to_a, sent, before, after);
  EXPECT_EQ(v.problems, "");
  auto stats = relay.stats();
  EXPECT_GT(stats["requeued"], 0u) << "the dying association handed nothing back: the test did not test redelivery";
  EXPECT_LE(v.duplicates, stats["redelivered_maybe_duplicate"]) << "duplicates the relay did not count";
  EXPECT_EQ(dropped_total(stats), 0u);
  std::fprintf(stderr, "a: %zu printed by the first instance, %zu unread in its socket, %zu by the second; "
               "%llu duplicates; requeued=%llu redelivered_maybe_duplicate=%llu\n",
               a1_printed, before.size() - a1_printed, after.size(), (unsigned long long)v.duplicates,
               (unsigned long long)stats["requeued"], (unsigned long long)stats["redelivered_maybe_duplicate"]);
}

TEST(RelayRedelivery, FragmentedMessagesHandedBackByADyingDestinationArriveWhole) {
  uint16_t p = ports_for_test();
  // A 1500-byte MTU on loopback: 4 KB messages go in 3 DATA chunks, 64 KB ones in 45, and a dying
  // association hands each chunk back on its own.
  ScopedMtu mtu("lo", 1500);
  Traffic to_a{2, [](int, uint64_t n) { return std::size_t(n % 4 == 3 ? 65536 : 4096); },
               [](int, uint64_t n) { return uint16_t(n % 2); }, [](int s) { return uint32_t(200 + s); }};
  auto a1 = std::make_unique<ClientSink>(p + 1);
  Peer b = Peer::listen(p + 2);
  Daemon relay(with_ports(kTwoDestinations, p));
  ASSERT_TRUE(b.wait_up());
  ASSERT_TRUE(relay.saw("destination a up"));
  Peer s0 = Peer::connect(p), s1 = Peer::connect(p);
  Peer* peers[] = {&s0, &s1};

  constexpr uint64_t kPhase1 = 20, kTotal = 170;
  for (int s = 0; s < 2; ++s) ASSERT_TRUE(to_a.send(*peers[s], s, 0, kPhase1));
  ASSERT_TRUE(a1->wait_messages(2 * kPhase1));

  // Stopped while idle, then mid-stream: the sources go on until the relay holds them back, with
  // the relay's socket to `a` full of fragments in flight.
  a1->process().signal(SIGSTOP);
  uint64_t pauses = relay.stats()["backpressure_pauses"];
  int ok[2] = {1, 1};
  Senders senders{{}, {&s0, &s1}};
  for (int s = 0; s < 2; ++s)
    senders.threads.emplace_back([&, s] { ok[s] = to_a.send(*peers[s], s, kPhase1, kTotal); });
  bool held = relay.wait_stat("backpressure_pauses", pauses + 1, Deadline::in(seconds(30)));
  std::size_t a1_printed = a1->messages().size();

  std::vector<Arrived> before;
  for (auto& m : a1->messages()) before.push_back(arrived(m));
  for (auto& m : kill_taking_unread(*a1)) before.push_back(arrived(m));
  a1.reset();
  ClientSink a2(p + 1);

  std::vector<uint64_t> sent{kTotal, kTotal};
  auto all_there = [&](const std::vector<PrintedMessage>& got) {
    std::map<std::pair<int, uint16_t>, bool> last_seen;
    for (auto& m : got)
      if (auto id = payload_id(m.data); id && id->seq % kSeqBase + 2 >= kTotal) last_seen[{int(id->seq / kSeqBase), m.stream}] = true;
    return last_seen.size() == 4;
  };
  EXPECT_TRUE(wait_printed(a2, all_there, Deadline::in(seconds(40)))) << "the new instance of a did not get everything";
  senders.join();
  EXPECT_TRUE(held) << "the relay never held the sources back";
  ASSERT_TRUE(ok[0] && ok[1]);
  EXPECT_FALSE(a2.wait_messages(a2.messages().size() + 1, Deadline::in(milliseconds(500)))) << "more than expected";

  std::vector<Arrived> after;
  for (auto& m : a2.messages()) after.push_back(arrived(m));
  Verdict v = check_two_lives(to_a, sent, before, after);
  EXPECT_EQ(v.problems, "");
  auto stats = relay.stats();
  EXPECT_GT(stats["requeued"], 0u) << "the dying association handed nothing back: the test did not test redelivery";
  EXPECT_LE(v.duplicates, stats["redelivered_maybe_duplicate"]) << "duplicates the relay did not count";
  EXPECT_EQ(dropped_total(stats), 0u);
  std::fprintf(stderr, "a: %zu printed by the first instance, %zu unread in its socket, %zu by the second; "
               "%llu duplicates; requeued=%llu redelivered_maybe_duplicate=%llu\n",
               a1_printed, before.size() - a1_printed, after.size(), (unsigned long long)v.duplicates,
               (unsigned long long)stats["requeued"], (unsigned long long)stats["redelivered_maybe_duplicate"]);
}
