// Faults on the way, through the real daemon: a lossy, delaying, reordering network path; sources
// killed -9 mid-stream; a destination killed -9 and started again, over and over, while sources
// send. What arrives is checked byte for byte with stream, PPID and ordering flag, and the relay's
// counters must account for every difference.
// The lossy path is made of veth pairs between network namespaces with netem on every end; that
// test needs root and iproute2 with tc (the VM runs the tests as root) and fails, not skips,
// without them.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "harness/client_sink.h"
#include "harness/daemon.h"
#include "harness/faults.h"
#include "harness/netns.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// Message n of source s carries sequence number s * kSeqBase + n (payload() names it).
constexpr uint64_t kSeqBase = 1000000;

#define REQUIRE_NETNS()                                                               \
  do {                                                                                \
    std::string why = netns_unavailable();                                            \
    ASSERT_TRUE(why.empty()) << "the lossy path test needs network namespaces: " << why; \
  } while (0)

uint64_t dropped_total(const std::map<std::string, uint64_t>& stats) {
  uint64_t n = 0;
  for (auto& [key, value] : stats)
    if (key.rfind("dropped_", 0) == 0) n += value;
  return n;
}

// One message as it arrived.
struct Arrived {
  uint16_t stream;
  uint32_t ppid;
  bool unordered;
  std::string data;
};
Arrived arrived(const Msg& m) { return {m.info.stream, m.info.ppid, m.info.unordered, m.text()}; }
Arrived arrived(const PrintedMessage& m) { return {m.stream, m.ppid, m.unordered, m.data}; }

// What a set of sources send: message n of source s is payload(size(s, n), s * kSeqBase + n,
// stream(s, n)) with PPID ppid(s, n), unordered if unordered(s, n).
struct Traffic {
  std::function<std::size_t(int, uint64_t)> size;
  std::function<uint16_t(int, uint64_t)> stream;
  std::function<uint32_t(int, uint64_t)> ppid;
  std::function<bool(int, uint64_t)> unordered = [](int, uint64_t) { return false; };

  std::string message(int s, uint64_t n) const { return payload(size(s, n), s * kSeqBase + n, stream(s, n)); }
  bool send(Peer& peer, int s, uint64_t n, Deadline d = Deadline::in(seconds(60))) const {
    return peer.send(message(s, n), stream(s, n), ppid(s, n), unordered(s, n), 0, d);
  }
};

using StreamKey = std::pair<int, uint16_t>;  // (source, stream)

// Sorts what arrived by (source, stream), in arrival order, as message numbers n; checks on the way
// that each one is exactly a message that was sent (`sent[s]` of source s): its bytes, stream, PPID
// and ordering flag. What is not goes to `problems`.
std::map<StreamKey, std::vector<uint64_t>> sort_arrivals(const Traffic& t, const std::vector<uint64_t>& sent,
                                                         const std::vector<Arrived>& got, const std::string& who,
                                                         std::ostringstream& problems) {
  std::map<StreamKey, std::vector<uint64_t>> out;
  std::size_t bad = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Arrived& a = got[i];
    auto id = payload_id(a.data);
    int s = id ? static_cast<int>(id->seq / kSeqBase) : -1;
    uint64_t n = id ? id->seq % kSeqBase : 0;
    bool known = id && s >= 0 && static_cast<std::size_t>(s) < sent.size() && n < sent[s];
    if (!known || a.data != t.message(s, n) || a.stream != t.stream(s, n) || a.ppid != t.ppid(s, n) ||
        a.unordered != t.unordered(s, n)) {
      if (++bad <= 10)
        problems << who << " message " << i << " (" << a.data.size() << " bytes, stream " << a.stream << ", ppid "
                 << a.ppid << (a.unordered ? ", unordered" : "") << ", starting \"" << a.data.substr(0, 24)
                 << "\") is not a message that was sent, as it was sent\n";
      continue;
    }
    out[{s, a.stream}].push_back(n);
  }
  if (bad > 10) problems << "... and " << bad - 10 << " more such messages at " << who << "\n";
  return out;
}

// The message numbers source s sent on each stream, in order.
std::map<uint16_t, std::vector<uint64_t>> sent_by_stream(const Traffic& t, int s, uint64_t count) {
  std::map<uint16_t, std::vector<uint64_t>> out;
  for (uint64_t n = 0; n < count; ++n) out[t.stream(s, n)].push_back(n);
  return out;
}

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
    if (std::any_of(threads.begin(), threads.end(), [](auto& t) { return t.joinable(); }))
      for (Peer* p : peers) p->abort();
    join();
  }
};

// Reads every notification waiting on `peer` (it only sent, so nothing read them) and fails the test
// if its association ever ended or restarted: it must have come up once and stayed up.
void expect_association_kept(Peer& peer, const std::string& who) {
  peer.quiet_until(Deadline::in(milliseconds(0)));
  int ups = 0;
  for (auto& c : peer.changes) {
    EXPECT_NE(c.state, SCTP_COMM_LOST) << who << ": the association was lost (ABORT)";
    EXPECT_NE(c.state, SCTP_SHUTDOWN_COMP) << who << ": the association was shut down";
    EXPECT_NE(c.state, SCTP_RESTART) << who << ": the association restarted";
    ups += c.state == SCTP_COMM_UP;
  }
  EXPECT_EQ(ups, 1) << who << ": exactly one association for the whole test";
}

// Three namespaces: the sources' ("src"), the relay's, the destination's ("dst"), joined by two
// veth pairs (1500-byte MTU) whose four ends all send through netem: 20 ms +- 5 ms of delay, 1% of
// packets lost and 10% sent at once, ahead of the delayed ones (reordered):
//   src 192.0.2.2/24 <-> relay 192.0.2.1/24        relay 198.51.100.1/24 <-> dst 198.51.100.2/24
// Both directions of both paths, so DATA and SACKs alike are lost, delayed and reordered.
struct LossyPaths {
  std::string tag = std::to_string(::getpid());
  Netns src{"fp-" + tag + "-src"};
  Netns relay{"fp-" + tag + "-relay"};
  Netns dst{"fp-" + tag + "-dst"};
  std::string src_dev = "fp" + tag + "s", relay_src_dev = "fp" + tag + "rs";
  std::string relay_dst_dev = "fp" + tag + "rd", dst_dev = "fp" + tag + "d";

  LossyPaths() {
    add_veth({src, src_dev, "192.0.2.2/24"}, {relay, relay_src_dev, "192.0.2.1/24"});
    add_veth({relay, relay_dst_dev, "198.51.100.1/24"}, {dst, dst_dev, "198.51.100.2/24"});
    const std::vector<std::string> netem{"delay", "20ms", "5ms", "loss", "1%", "reorder", "10%", "25%", "limit", "10000"};
    add_netem(src, src_dev, netem);
    add_netem(relay, relay_src_dev, netem);
    add_netem(relay, relay_dst_dev, netem);
    add_netem(dst, dst_dev, netem);
    // Milliseconds. A lost last packet of a burst waits for the retransmission timer: the default
    // minimum of a second would make the run long, not different.
    for (const Netns* ns : {&src, &relay, &dst}) {
      ns->set_sysctl("net.sctp.rto_initial", "300");
      ns->set_sysctl("net.sctp.rto_min", "100");
      ns->set_sysctl("net.sctp.rto_max", "1000");
    }
  }
  // Retransmissions so far, all namespaces together.
  uint64_t retransmissions() const {
    uint64_t n = 0;
    for (const Netns* ns : {&src, &relay, &dst}) {
      auto c = sctp_snmp(*ns);
      n += c["SctpT3Retransmits"] + c["SctpFastRetransmits"];
    }
    return n;
  }
};

}  // namespace

TEST(FaultPaths, LossyDelayedReorderingPathsDeliverEveryMessageWholeAndInOrder) {
  REQUIRE_NETNS();
  uint16_t p = ports_for_test();
  LossyPaths net;
  Peer sink = in_netns(net.dst, [&] { return Peer::listen(p + 1, {"198.51.100.2"}); });
  NetnsScope inside_relay(net.relay);  // the daemon runs in the relay's namespace
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [192.0.2.1], port: {P0}}
destinations:
  - {name: out, addresses: [198.51.100.2], port: {P1}, reconnect: {min: 50ms, max: 200ms}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(sink.wait_up(Deadline::in(seconds(30))));
  ASSERT_TRUE(relay.saw("destination out up"));

  // Three sources, 900 messages each on 7 streams: 0-5 ordered, 6 unordered. Mostly 100-800 bytes;
  // every 13th 4-7 KB (3 to 5 DATA chunks at a 1500-byte MTU), every 97th 20 KB (14 chunks).
  constexpr int kSources = 3;
  constexpr uint64_t kEach = 900;
  Traffic t;
  t.size = [](int, uint64_t n) -> std::size_t {
    if (n % 97 == 0) return 20000;
    if (n % 13 == 5) return 4000 + (n * 31) % 3000;
    return 100 + (n * 37) % 700;
  };
  t.stream = [](int, uint64_t n) { return uint16_t(n % 7); };
  t.ppid = [](int s, uint64_t n) { return uint32_t(1000 * (s + 1) + n % 7); };
  t.unordered = [](int, uint64_t n) { return n % 7 == 6; };
  std::vector<Peer> sources;
  for (int s = 0; s < kSources; ++s)
    sources.push_back(in_netns(net.src, [&] { return Peer::connect(p, {"192.0.2.1"}, 16, {"192.0.2.2"}); }));
  uint64_t retransmitted_before = net.retransmissions();

  auto start = Clock::now();
  std::vector<Msg> got;
  std::thread reader([&] { got = sink.recv_n(kSources * kEach, Deadline::in(seconds(150))); });
  bool ok[kSources];
  Senders senders;
  for (int s = 0; s < kSources; ++s) {
    senders.peers.push_back(&sources[s]);
    senders.threads.emplace_back([&, s] {
      ok[s] = true;
      for (uint64_t n = 0; n < kEach && ok[s]; ++n) ok[s] = t.send(sources[s], s, n, Deadline::in(seconds(90)));
    });
  }
  senders.join();
  reader.join();
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  uint64_t retransmitted = net.retransmissions() - retransmitted_before;
  std::fprintf(stderr, "%zu of %llu messages through the lossy paths in %.1f s; %llu retransmissions\n", got.size(),
               (unsigned long long)(kSources * kEach), took, (unsigned long long)retransmitted);
  for (int s = 0; s < kSources; ++s) ASSERT_TRUE(ok[s]) << "source " << s << " could not send everything";
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(500)))) << "more messages than were sent";

  // Every message once, whole, with its stream, PPID and flag; ordered streams in order.
  std::ostringstream problems;
  std::vector<Arrived> all;
  for (auto& m : got) all.push_back(arrived(m));
  std::vector<uint64_t> sent(kSources, kEach);
  auto by_stream = sort_arrivals(t, sent, all, "the destination", problems);
  for (int s = 0; s < kSources; ++s)
    for (auto& [stream, want] : sent_by_stream(t, s, kEach)) {
      std::vector<uint64_t> have = by_stream[{s, stream}];
      if (t.unordered(s, want.front())) std::sort(have.begin(), have.end());
      if (have != want)
        problems << "source " << s << " stream " << stream << ": " << have.size() << " of " << want.size()
                 << (t.unordered(s, want.front()) ? " unordered messages, not each once" : " messages, not in order")
                 << "\n";
    }
  EXPECT_EQ(problems.str(), "");
  ASSERT_EQ(got.size(), std::size_t(kSources * kEach));
  auto stats = relay.stats();
  EXPECT_EQ(dropped_total(stats), 0u);
  EXPECT_EQ(stats["received"], kSources * kEach);
  EXPECT_EQ(stats["forwarded"], kSources * kEach);
  EXPECT_EQ(stats["assoc_down_abort"] + stats["assoc_down_shutdown"], 0u);
  // The paths did lose packets: the transfer went through SCTP's recovery, not around it.
  EXPECT_GT(retransmitted, 0u) << "no retransmissions: netem did not lose anything";
  for (int s = 0; s < kSources; ++s) expect_association_kept(sources[s], "source " + std::to_string(s));
  expect_association_kept(sink, "the destination");
}

TEST(FaultPaths, SourcesKilledMidStreamAreCleanedUpWhileAnotherSourceCarriesOn) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kInToOut, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  // Source 0, `steady`, in this process: 300-byte messages on streams 0-3, PPID 10.
  Traffic t;
  t.size = [](int, uint64_t) { return std::size_t(300); };
  t.stream = [](int s, uint64_t n) { return uint16_t(s == 0 ? n % 4 : s == 1 ? 4 + n % 4 : 8 + n % 2); };
  t.ppid = [](int s, uint64_t) { return uint32_t(s == 0 ? 10 : 40 + s); };
  std::size_t up_from = relay.mark();
  Peer steady = Peer::connect(p);
  ASSERT_TRUE(relay.saw("association up: listener in", soon(), up_from));
  constexpr uint64_t kWarmup = 100;
  for (uint64_t n = 0; n < kWarmup; ++n) ASSERT_TRUE(t.send(steady, 0, n));
  std::vector<Msg> warmup = sink.recv_n(kWarmup);
  ASSERT_EQ(warmup.size(), kWarmup);

  const pid_t relay_pid = relay.process().pid();
  const std::size_t fds_before = open_fds(relay_pid);
  auto stats_before = relay.stats();

  // Sources 1 and 2 in python processes of their own, sending as fast as they can: 1 with SO_LINGER
  // off-with-zero-timeout, 2 holding a reply it never reads. Either way, when the process dies its
  // kernel ABORTs the association. They produce what Traffic says (same sizes, streams, PPIDs).
  KillableSource k1({.port = p, .seq_base = 1 * kSeqBase, .first_stream = 4, .streams = 4, .ppid = 41, .size = 300,
                     .abort_on_close = true});
  KillableSource k2({.port = p, .seq_base = 2 * kSeqBase, .first_stream = 8, .streams = 2, .ppid = 42, .size = 300,
                     .hold_replies = true});
  // Each association the relay accepts gets a descriptor of its own.
  EXPECT_TRUE(wait_until([&] { return open_fds(relay_pid) == fds_before + 2; }, Deadline::in(seconds(10))))
      << "the relay has " << open_fds(relay_pid) << " descriptors, was " << fds_before << " before two more sources";

  // The destination reads everything; the first message of source 2 gets a reply (return path: to
  // the association that sent on that stream), which source 2 leaves unread.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Msg> got;
  std::map<int, std::size_t> per_source;
  std::atomic<bool> stop_reading{false};
  std::thread reader([&] {
    bool replied = false;
    while (!stop_reading) {
      auto m = sink.recv(Deadline::in(milliseconds(100)));
      if (!m) continue;
      auto id = payload_id(m->text());
      int s = id ? static_cast<int>(id->seq / kSeqBase) : -1;
      if (s == 2 && !replied) replied = sink.send("a reply nobody reads", m->info.stream, 99, false, m->info.assoc);
      std::lock_guard lock(mu);
      got.push_back(std::move(*m));
      per_source[s]++;
      cv.notify_all();
    }
  });
  auto wait_arrivals = [&](const std::function<bool()>& done, Deadline d) {
    std::unique_lock lock(mu);
    return cv.wait_until(lock, d.at, done);
  };
  struct JoinReader {
    std::atomic<bool>& stop;
    std::thread& t;
    ~JoinReader() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join_reader{stop_reading, reader};

  // Steady sends all along, and 1000 more messages once the others are dead.
  std::atomic<bool> killed{false};
  uint64_t steady_sent = kWarmup;
  bool steady_ok = true;
  Senders senders;
  senders.peers.push_back(&steady);
  senders.threads.emplace_back([&] {
    uint64_t after_kill = 0;
    for (uint64_t n = kWarmup; steady_ok && after_kill < 1000; ++n) {
      bool was_killed = killed;
      steady_ok = t.send(steady, 0, n);
      if (steady_ok) steady_sent = n + 1;
      after_kill += was_killed;
    }
  });

  // Mid-stream: both have had messages delivered, and source 2 holds its reply unread.
  bool flowing = wait_arrivals([&] { return per_source[1] >= 300 && per_source[2] >= 300 && per_source[0] >= 300; },
                               Deadline::in(seconds(60)));
  ASSERT_TRUE(flowing) << "the sources' messages did not get through";
  ASSERT_TRUE(k2.process().wait_line("unread reply", Deadline::in(seconds(30)))) << "source 2 never got its reply";
  ASSERT_TRUE(k1.process().running() && k2.process().running()) << "a source stopped before it was killed";
  k1.process().signal(SIGKILL);
  k2.process().signal(SIGKILL);
  EXPECT_EQ(k1.process().wait_exit(), 128 + SIGKILL);
  EXPECT_EQ(k2.process().wait_exit(), 128 + SIGKILL);
  killed = true;

  // The relay sees both ABORTs and closes their descriptors.
  EXPECT_TRUE(relay.wait_stat("assoc_down_abort", stats_before["assoc_down_abort"] + 2, Deadline::in(seconds(30))));
  EXPECT_TRUE(wait_until([&] { return open_fds(relay_pid) == fds_before; }, Deadline::in(seconds(10))))
      << "the relay has " << open_fds(relay_pid) << " descriptors after the two sources died, " << fds_before
      << " before they came";

  // Steady's traffic carries on to its end.
  senders.join();
  ASSERT_TRUE(steady_ok) << "steady could not send everything";
  bool steady_all = wait_arrivals([&] { return per_source[0] == steady_sent - kWarmup; }, Deadline::in(seconds(60)));
  EXPECT_TRUE(steady_all) << "steady's messages did not all arrive";
  // Everything the relay read, it delivered: all it read but the reply went to the destination.
  auto stats = relay.stats();
  bool all_delivered = wait_arrivals([&] { return got.size() + kWarmup + 1 == stats["received"]; },
                                     Deadline::in(seconds(30)));
  stop_reading = true;
  reader.join();
  EXPECT_TRUE(all_delivered) << "the relay read " << stats["received"] << " messages (one of them the reply), the "
                             << "destination got " << got.size() + kWarmup;
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300))));

  // Steady: every message, in order per stream. The killed sources: on each stream, the first k
  // they sent, in order, nothing after a gap (whatever the relay had read when they died).
  std::ostringstream problems;
  std::vector<Arrived> all;
  for (auto& m : warmup) all.push_back(arrived(m));
  for (auto& m : got) all.push_back(arrived(m));
  std::vector<uint64_t> sent{steady_sent, kSeqBase - 1, kSeqBase - 1};
  auto by_stream = sort_arrivals(t, sent, all, "the destination", problems);
  for (auto& [stream, want] : sent_by_stream(t, 0, steady_sent))
    if (by_stream[{0, stream}] != want)
      problems << "steady stream " << stream << ": " << by_stream[{0, stream}].size() << " of " << want.size()
               << " messages, or not in order\n";
  for (int s = 1; s <= 2; ++s) {
    std::size_t delivered = 0;
    for (auto& [key, have] : by_stream) {
      if (key.first != s) continue;
      delivered += have.size();
      for (std::size_t i = 0; i < have.size(); ++i) {
        uint64_t want = (s == 1 ? 4 : 2) * i + (key.second - (s == 1 ? 4 : 8));
        if (have[i] != want) {
          problems << "source " << s << " stream " << key.second << ": message " << i << " is #" << have[i]
                   << ", not #" << want << "\n";
          break;
        }
      }
    }
    EXPECT_GE(delivered, 300u) << "source " << s;
    std::fprintf(stderr, "source %d: %zu messages delivered before it was killed\n", s, delivered);
  }
  EXPECT_EQ(problems.str(), "");

  EXPECT_EQ(stats["assoc_up"] - stats_before["assoc_up"], 2u);
  EXPECT_EQ(stats["assoc_down_abort"] - stats_before["assoc_down_abort"], 2u);
  EXPECT_EQ(stats["assoc_down_shutdown"], stats_before["assoc_down_shutdown"]);
  EXPECT_EQ(stats["forwarded"], stats["received"]);
  EXPECT_EQ(dropped_total(stats), 0u);
  EXPECT_EQ(open_fds(relay_pid), fds_before);
  expect_association_kept(steady, "steady");
}

TEST(FaultPaths, DestinationKilledAndRestartedOverAndOverKeepsOrderAndCountsEveryDuplicate) {
  uint16_t p = ports_for_test();
  auto sink = std::make_unique<ClientSink>(p + 1);
  Daemon relay(with_ports(R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - name: a
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 200ms}
    queue: {max_messages: 1000, when_full: backpressure}
routes:
  - {from: in, to: a}
)", p));
  ASSERT_TRUE(relay.saw("destination a up"));
  constexpr int kSources = 2;
  Traffic t;
  t.size = [](int, uint64_t n) { return std::size_t(200 + n % 5 * 100); };
  t.stream = [](int, uint64_t n) { return uint16_t(n % 4); };
  t.ppid = [](int s, uint64_t n) { return uint32_t(100 * (s + 1) + n % 4); };
  std::vector<Peer> sources;
  for (int s = 0; s < kSources; ++s) sources.push_back(Peer::connect(p));

  // The sources send all along, as fast as the relay takes it.
  std::atomic<bool> stop{false};
  uint64_t sent_count[kSources] = {};
  bool ok[kSources] = {true, true};
  Senders senders;
  for (int s = 0; s < kSources; ++s) {
    senders.peers.push_back(&sources[s]);
    senders.threads.emplace_back([&, s] {
      for (uint64_t n = 0; !stop && ok[s]; ++n) {
        ok[s] = t.send(sources[s], s, n);
        if (ok[s]) sent_count[s] = n + 1;
      }
    });
  }

  // Each instance of the destination gets at least kPerLife messages, then is killed -9 and a new one
  // takes its port.
  constexpr int kKills = 4;
  constexpr std::size_t kPerLife = 300;
  std::vector<std::vector<Arrived>> lives;
  for (int kill = 0; kill < kKills; ++kill) {
    ASSERT_TRUE(sink->wait_messages(kPerLife, Deadline::in(seconds(40)))) << "instance " << kill << " got too little";
    std::size_t mark = relay.mark();
    sink->process().signal(SIGKILL);
    ASSERT_EQ(sink->process().wait_exit(), 128 + SIGKILL);
    lives.emplace_back();
    for (auto& m : sink->messages()) lives.back().push_back(arrived(m));
    sink.reset();
    ASSERT_TRUE(relay.saw("destination a down", Deadline::in(seconds(30)), mark));
    sink = std::make_unique<ClientSink>(p + 1);
  }
  ASSERT_TRUE(sink->wait_messages(kPerLife, Deadline::in(seconds(40)))) << "the last instance got too little";
  stop = true;
  senders.join();
  for (int s = 0; s < kSources; ++s) ASSERT_TRUE(ok[s]) << "source " << s << " could not send";

  // The last instance gets everything up to the last message of each (source, stream). (Each
  // message is looked at once: this loop must keep up with the sink's output.)
  std::map<StreamKey, bool> last_seen;
  std::size_t scanned = 0;
  auto all_there = [&] {
    const auto& printed = sink->messages();
    for (; scanned < printed.size(); ++scanned)
      if (auto id = payload_id(printed[scanned].data);
          id && id->seq / kSeqBase < uint64_t(kSources) && id->seq % kSeqBase + 4 >= sent_count[id->seq / kSeqBase])
        last_seen[{int(id->seq / kSeqBase), printed[scanned].stream}] = true;
    return last_seen.size() == std::size_t(4 * kSources);
  };
  // Generous: under emulation a loaded machine makes the sink (a separate process) slow to print.
  Deadline d = Deadline::in(seconds(120));
  while (!all_there() && sink->wait_messages(sink->messages().size() + 1, d)) {
  }
  EXPECT_TRUE(all_there()) << "the last instance did not get the sources' last messages";
  EXPECT_FALSE(sink->wait_messages(sink->messages().size() + 1, Deadline::in(milliseconds(500))))
      << "more than the sources sent";
  lives.emplace_back();
  for (auto& m : sink->messages()) lives.back().push_back(arrived(m));

  // Per (source, stream), each instance got a run of consecutive messages, in order. The next
  // instance starts at most where the last one stopped (a duplicate: the relay sent it again when
  // the association died, and must count it as maybe duplicated) or after it (lost: acknowledged by
  // the killed instance's kernel, never read by the process, gone with it; SCTP cannot tell). The
  // first instance starts at the first message, the last ends at the last one.
  std::ostringstream problems;
  std::vector<uint64_t> sent(sent_count, sent_count + kSources);
  std::vector<std::map<StreamKey, std::vector<uint64_t>>> runs;
  for (std::size_t i = 0; i < lives.size(); ++i)
    runs.push_back(sort_arrivals(t, sent, lives[i], "instance " + std::to_string(i), problems));
  uint64_t duplicates = 0, lost = 0;
  for (int s = 0; s < kSources; ++s)
    for (auto& [stream, want] : sent_by_stream(t, s, sent[s])) {
      std::map<uint64_t, std::size_t> index;  // message number -> its place on its stream
      for (std::size_t i = 0; i < want.size(); ++i) index[want[i]] = i;
      std::string where = "source " + std::to_string(s) + " stream " + std::to_string(stream) + ": ";
      long long next = 0;  // the place after the last message delivered so far
      for (std::size_t life = 0; life < runs.size(); ++life) {
        const auto& run = runs[life][{s, stream}];
        if (run.empty()) continue;
        long long first = static_cast<long long>(index[run.front()]);
        for (std::size_t i = 1; i < run.size(); ++i)
          if (index[run[i]] != index[run[i - 1]] + 1) {
            problems << where << "instance " << life << " got #" << run[i] << " after #" << run[i - 1] << " (its "
                     << i - 1 << "th and " << i << "th on that stream, of " << run.size() << ")\n";
            break;
          }
        if (life == 0 && first != 0) problems << where << "the first instance started at #" << run.front() << "\n";
        if (first < next) duplicates += next - first;
        if (first > next) lost += first - next;
        next = first + static_cast<long long>(run.size());
      }
      if (next != static_cast<long long>(want.size()))
        problems << where << "delivery ended at place " << next << " of " << want.size() << "\n";
    }
  EXPECT_EQ(problems.str(), "");

  auto stats = relay.stats();
  std::fprintf(stderr, "%d kills; sent %llu and %llu; %llu duplicates, %llu lost in killed instances; requeued=%llu "
               "redelivered_maybe_duplicate=%llu\n", kKills, (unsigned long long)sent[0], (unsigned long long)sent[1],
               (unsigned long long)duplicates, (unsigned long long)lost, (unsigned long long)stats["requeued"],
               (unsigned long long)stats["redelivered_maybe_duplicate"]);
  EXPECT_LE(duplicates, stats["redelivered_maybe_duplicate"]) << "duplicates the relay did not count";
  EXPECT_EQ(dropped_total(stats), 0u);
  // Only the destination's associations ended, once per kill; the sources' never did.
  EXPECT_EQ(stats["assoc_down_abort"] + stats["assoc_down_shutdown"], uint64_t(kKills));
  for (int s = 0; s < kSources; ++s) expect_association_kept(sources[s], "source " + std::to_string(s));
}
