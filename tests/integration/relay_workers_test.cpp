// `workers: 2` on kernel SCTP: two event loops on two threads, each with its own SO_REUSEPORT
// socket per listener and its own association to every destination. Every test first opens source
// associations until `sctprelayctl assocs --json` shows that each worker carries some,
// then checks that what one loop does alone still holds with two: every message exactly once, byte
// for byte and in order per stream; replies back to their own source through the worker that
// carried the request; reloads, drain, disconnect and the graceful stop acting on both loops; the
// counters summed over both; max_associations counted daemon-wide.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include "harness/ctl.h"
#include "harness/daemon.h"
#include "harness/echo_peer.h"
#include "harness/peer.h"
#include "harness/system.h"
#include "harness/yaml.h"

using namespace harness;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr unsigned kWorkers = 2;
// Source associations opened at once; then one more at a time, while a worker has none, up to the
// cap. The kernel picks the socket by a hash of the new association's addresses and ports: eight
// all on one of two sockets happens 1 time in 128, 32 of them practically never.
constexpr std::size_t kFirstSources = 8;
constexpr std::size_t kMaxSources = 32;

constexpr uint16_t kUserInitiatedAbort = 12;  // RFC 9260 error cause, as the relay refuses

// One source association: its peer, the local port the relay lists it by, where the relay put it.
struct Source {
  std::unique_ptr<Peer> peer;
  uint16_t port = 0;
  int worker = -1;
  uint64_t id = 0;  // the relay's id
};

using PerWorker = std::array<std::size_t, kWorkers>;

uint16_t local_port(Peer& p) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(p.socket().fd(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
}

uint16_t port_of(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoul(endpoint.substr(endpoint.rfind(':') + 1)));
}

std::size_t count_state(const Peer& p, int state) {
  return std::count_if(p.changes.begin(), p.changes.end(), [&](auto& c) { return c.state == state; });
}

// Waits until `p` has seen `n` associations come up in all.
bool wait_ups(Peer& p, std::size_t n, Deadline d = soon()) {
  while (count_state(p, SCTP_COMM_UP) < n)
    if (!p.wait_up(d)) return false;
  return true;
}

std::vector<sctp_assoc_t> up_ids(const Peer& p) {
  std::vector<sctp_assoc_t> ids;
  for (auto& c : p.changes)
    if (c.state == SCTP_COMM_UP) ids.push_back(c.assoc);
  return ids;
}

bool ended(const Peer& p, sctp_assoc_t assoc) {
  return std::any_of(p.changes.begin(), p.changes.end(), [&](auto& c) {
    return c.assoc == assoc && (c.state == SCTP_COMM_LOST || c.state == SCTP_SHUTDOWN_COMP);
  });
}

bool aborted_by_relay(const Peer& p, sctp_assoc_t assoc) {
  return std::any_of(p.changes.begin(), p.changes.end(), [&](auto& c) {
    return c.assoc == assoc && c.state == SCTP_COMM_LOST &&
           (c.error == kUserInitiatedAbort || c.error == htons(kUserInitiatedAbort));
  });
}

json ctl_json(Daemon& relay, const std::vector<std::string>& args) {
  std::vector<std::string> all{"--json"};
  all.insert(all.end(), args.begin(), args.end());
  CtlResult r = relay.ctl(all);
  EXPECT_EQ(r.status, 0) << "sctprelayctl " << args.front() << ": " << r.out << r.err;
  return r.json;
}

// The relay's accepted associations on listener `in`, by the peer's port.
std::map<uint16_t, json> accepted_by_port(Daemon& relay) {
  CtlResult r = relay.ctl({"--json", "assocs", "--listener", "in"});
  std::map<uint16_t, json> out;
  if (r.status != 0 || !r.json.is_object()) return out;
  for (auto& a : r.json["associations"])
    if (a["role"] == "accepted" && !a["peers"].empty()) out[port_of(a["peers"][0].get<std::string>())] = a;
  return out;
}

PerWorker per_worker(const std::vector<Source>& sources) {
  PerWorker n{};
  for (auto& s : sources)
    if (s.worker >= 0 && s.worker < int(kWorkers)) n[s.worker]++;
  return n;
}

// Where the relay put each source (waits until it lists them all), and the id scheme: worker w of
// N gives ids w + N, w + 2N, ...
void place(Daemon& relay, std::vector<Source>& sources) {
  std::map<uint16_t, json> listed;
  const bool all = wait_until(
      [&] {
        listed = accepted_by_port(relay);
        return std::all_of(sources.begin(), sources.end(), [&](auto& s) { return listed.count(s.port) > 0; });
      },
      soon(), milliseconds(50));
  ASSERT_TRUE(all) << "the relay does not list every source association (" << listed.size() << " of "
                   << sources.size() << ")";
  std::set<uint64_t> ids;
  for (auto& s : sources) {
    const json& a = listed[s.port];
    s.worker = a["worker"].get<int>();
    s.id = a["id"].get<uint64_t>();
    ASSERT_GE(s.worker, 0);
    ASSERT_LT(s.worker, int(kWorkers)) << a.dump();
    EXPECT_EQ(s.id % kWorkers, uint64_t(s.worker)) << "id " << s.id << " is not worker " << s.worker << "'s";
    EXPECT_GE(s.id, uint64_t(kWorkers)) << "ids start at w + N";
    EXPECT_TRUE(ids.insert(s.id).second) << "id " << s.id << " twice";
  }
}

void add_source(std::vector<Source>& sources, uint16_t port, const std::vector<std::string>& at = {"127.0.0.1"}) {
  Source s;
  s.peer = std::make_unique<Peer>(Peer::connect(port, at));
  s.port = local_port(*s.peer);
  ASSERT_NE(s.port, 0);
  sources.push_back(std::move(s));
}

// Opens source associations (to `at`:`port`) until each worker carries at least `each` more
// (kFirstSources at once, then one at a time); fails, saying so, if kMaxSources did not get there.
void open_on_both_workers(Daemon& relay, uint16_t port, std::vector<Source>& sources, std::size_t each = 1,
                          const std::vector<std::string>& at = {"127.0.0.1"}) {
  PerWorker before = per_worker(sources);
  const std::size_t already = sources.size();
  for (std::size_t i = 0; i < kFirstSources; ++i) ASSERT_NO_FATAL_FAILURE(add_source(sources, port, at));
  for (;;) {
    ASSERT_NO_FATAL_FAILURE(place(relay, sources));
    PerWorker n = per_worker(sources);
    for (std::size_t w = 0; w < kWorkers; ++w) n[w] -= before[w];
    if (std::all_of(n.begin(), n.end(), [&](std::size_t k) { return k >= each; })) return;
    ASSERT_LT(sources.size() - already, kMaxSources)
        << "after " << sources.size() - already << " source associations, worker 0 has " << n[0] << " and worker 1 has " << n[1]
        << ": the kernel does not spread new associations over the workers' SO_REUSEPORT sockets";
    ASSERT_NO_FATAL_FAILURE(add_source(sources, port, at));
  }
}

// A message that names its source, stream and sequence number, with a size and bytes of its own.
std::string body(int src, int stream, int seq, std::size_t size = 0) {
  char head[64];
  std::snprintf(head, sizeof head, "src=%d stream=%d seq=%d;", src, stream, seq);
  if (size == 0) size = 40 + std::size_t(seq * 131 + src * 17 + stream * 57) % 3000;
  std::string s(head);
  s.reserve(size);
  for (std::size_t i = s.size(); i < size; ++i) s.push_back(static_cast<char>((i * 31 + seq * 7 + src * 13 + stream) & 0xFF));
  return s;
}

struct Named {
  int src = -1, stream = -1, seq = -1;
};
Named name_of(const Msg& m) {
  Named n;
  std::string head = m.text().substr(0, 48);
  if (std::sscanf(head.c_str(), "src=%d stream=%d seq=%d;", &n.src, &n.stream, &n.seq) != 3) n = {};
  return n;
}

// Each source sends one message (stream 1, PPID 5, ending in `tag`); `to` gets exactly one from
// each, whole, on stream 1 with `want_ppid`, and from each worker as many as it carries sources.
void one_from_each(const std::vector<Source>& sources, Peer& to, const std::string& tag, uint32_t want_ppid) {
  const int n = int(sources.size());
  for (int i = 0; i < n; ++i) ASSERT_TRUE(sources[i].peer->send(body(i, 1, 0, 100 + i) + tag, 1, 5)) << tag;
  auto got = to.recv_n(n, Deadline::in(seconds(30)));
  ASSERT_EQ(got.size(), std::size_t(n)) << tag;
  std::set<int> from;
  PerWorker via{};
  for (auto& m : got) {
    Named id = name_of(m);
    ASSERT_GE(id.src, 0);
    ASSERT_LT(id.src, n);
    EXPECT_EQ(m.text(), body(id.src, 1, 0, 100 + id.src) + tag);
    EXPECT_EQ(m.info.stream, 1);
    EXPECT_EQ(m.info.ppid, want_ppid) << tag;
    EXPECT_TRUE(from.insert(id.src).second) << tag << ": src " << id.src << " twice";
    via[sources[id.src].worker]++;
  }
  EXPECT_EQ(via, per_worker(sources)) << tag;
}

// What has arrived of the numbered traffic (body()). Each message must name one of `sources`,
// arrive whole on the stream it names with that source's PPID (`ppid`) and ordering flag (only
// `unordered_stream` is sent unordered), once, and on an ordered stream right after the one before.
struct Numbered {
  int sources = 0;
  std::function<uint32_t(int, int)> ppid;
  int unordered_stream = -1;
  std::set<std::tuple<int, int, int>> seen;
  std::map<std::pair<int, int>, int> next;
};

// Checks one arrival against `log` (fatally) and records it; `id` says what it was.
void check_numbered(Numbered& log, const Msg& m, Named& id) {
  id = name_of(m);
  ASSERT_GE(id.src, 0) << "not a test message";
  ASSERT_LT(id.src, log.sources);
  ASSERT_EQ(m.info.stream, id.stream);
  ASSERT_EQ(m.info.ppid, log.ppid(id.src, id.stream));
  ASSERT_EQ(m.info.unordered, id.stream == log.unordered_stream);
  ASSERT_TRUE(m.text() == body(id.src, id.stream, id.seq))
      << "src " << id.src << " stream " << id.stream << " seq " << id.seq << " changed on the way";
  ASSERT_TRUE(log.seen.insert({id.src, id.stream, id.seq}).second) << "duplicate";
  if (id.stream != log.unordered_stream) {
    ASSERT_EQ(id.seq, log.next[std::make_pair(id.src, id.stream)]++)
        << "src " << id.src << " stream " << id.stream << " out of order";
  }
}

// The daemon's last `stats:` line (the one it logs as it exits), parsed.
std::map<std::string, uint64_t> last_stats(Daemon& relay) {
  relay.process().drain();
  std::map<std::string, uint64_t> out;
  const auto& lines = relay.process().lines();
  for (std::size_t i = lines.size(); i-- > 0;) {
    auto at = lines[i].find("stats: ");
    if (at == std::string::npos) continue;
    std::istringstream in(lines[i].substr(at + 7));
    for (std::string kv; in >> kv;)
      if (auto eq = kv.find('='); eq != std::string::npos) out[kv.substr(0, eq)] = std::stoull(kv.substr(eq + 1));
    break;
  }
  return out;
}

bool saw_line(Daemon& relay, const std::string& needle, std::size_t from) {
  relay.process().drain();
  const auto& lines = relay.process().lines();
  for (std::size_t i = from; i < lines.size(); ++i)
    if (lines[i].find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. Forwarding: every message once, byte for byte, in order per (source, stream); each worker's
//    own association to each sink; every counter the sum of both workers'.

TEST(RelayWorkers, SourcesOnBothWorkersGetEveryMessageThroughOnceInOrderAndTheCountersAddUp) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {name: low, from: in, streams: "0-1", to: a}
  - {name: high, from: in, streams: "2-3", to: b}
metrics: {listen: "127.0.0.1:{P5}"}
)", p));
  // Each worker has its own association to each destination.
  ASSERT_TRUE(wait_ups(a, kWorkers));
  ASSERT_TRUE(wait_ups(b, kWorkers));
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  const int n = int(sources.size());

  // Streams 0-1 go to a, 2-3 to b; stream 3 is unordered (its order is not checked, its flag is).
  constexpr int kSeq = 16, kStreams = 4;
  auto ppid = [](int src, int stream) { return uint32_t(0x10000 * (src + 1) + stream); };
  const std::size_t to_a = std::size_t(n) * kSeq * 2, to_b = to_a;
  std::vector<Msg> got_a, got_b;
  std::thread read_a([&] { got_a = a.recv_n(to_a, Deadline::in(seconds(120))); });
  std::thread read_b([&] { got_b = b.recv_n(to_b, Deadline::in(seconds(120))); });
  std::vector<uint64_t> sent_msgs(n), sent_bytes(n);
  std::array<std::vector<uint64_t>, 2> dest_msgs{std::vector<uint64_t>(kWorkers), std::vector<uint64_t>(kWorkers)};
  uint64_t bytes_a = 0, bytes_b = 0;
  bool sent_all = true;
  for (int seq = 0; seq < kSeq && sent_all; ++seq)
    for (int src = 0; src < n && sent_all; ++src)
      for (int stream = 0; stream < kStreams && sent_all; ++stream) {
        const std::string m = body(src, stream, seq);
        sent_all = sources[src].peer->send(m, uint16_t(stream), ppid(src, stream), stream == 3, 0,
                                           Deadline::in(seconds(60)));
        sent_msgs[src]++;
        sent_bytes[src] += m.size();
        (stream < 2 ? bytes_a : bytes_b) += m.size();
        dest_msgs[stream < 2 ? 0 : 1][sources[src].worker]++;
      }
  read_a.join();
  read_b.join();
  ASSERT_TRUE(sent_all);
  ASSERT_EQ(got_a.size(), to_a) << "messages lost on the way to a";
  ASSERT_EQ(got_b.size(), to_b) << "messages lost on the way to b";

  // Byte for byte, with stream, PPID and flag, once each, in order per (source, stream); and a
  // source's messages all come over its worker's association to the sink.
  auto check = [&](const std::vector<Msg>& got, Peer& sink, int first_stream) {
    Numbered log{n, ppid, 3};
    std::map<int, sctp_assoc_t> via_src;
    for (auto& m : got) {
      Named id;
      ASSERT_NO_FATAL_FAILURE(check_numbered(log, m, id));
      ASSERT_TRUE(id.stream == first_stream || id.stream == first_stream + 1) << "stream " << id.stream << " misrouted";
      auto [it, fresh] = via_src.emplace(id.src, m.info.assoc);
      ASSERT_EQ(it->second, m.info.assoc) << "src " << id.src << "'s messages came over two associations";
    }
    // Sources on one worker share its association to the sink; the two workers' differ.
    std::map<int, sctp_assoc_t> via_worker;
    for (auto& [src, assoc] : via_src) {
      auto [it, fresh] = via_worker.emplace(sources[src].worker, assoc);
      EXPECT_EQ(it->second, assoc) << "worker " << sources[src].worker << " used two associations to the sink";
    }
    ASSERT_EQ(via_worker.size(), std::size_t(kWorkers));
    EXPECT_NE(via_worker[0], via_worker[1]);
    EXPECT_EQ(count_state(sink, SCTP_COMM_UP), std::size_t(kWorkers));
    EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300))));
  };
  ASSERT_NO_FATAL_FAILURE(check(got_a, a, 0));
  ASSERT_NO_FATAL_FAILURE(check(got_b, b, 2));

  const uint64_t total = to_a + to_b, total_bytes = bytes_a + bytes_b;
  json status = ctl_json(relay, {"status"});
  EXPECT_EQ(status["daemon"]["workers"], kWorkers);
  EXPECT_EQ(status["totals"]["received"], total);
  EXPECT_EQ(status["totals"]["forwarded"], total);
  EXPECT_EQ(status["totals"]["dropped_no_route"], 0);
  EXPECT_EQ(status["totals"]["queued_bytes"], 0);
  const json* in = find_named(status["listeners"], "name", "in");
  ASSERT_TRUE(in) << status.dump();
  EXPECT_EQ((*in)["associations"], n);
  EXPECT_EQ((*in)["accepted_total"], n);
  EXPECT_EQ((*in)["traffic"]["messages_in"], total);
  EXPECT_EQ((*in)["traffic"]["bytes_in"], total_bytes);
  for (auto [name, msgs, bytes] : {std::tuple{"a", to_a, bytes_a}, std::tuple{"b", to_b, bytes_b}}) {
    const json* d = find_named(status["destinations"], "name", name);
    ASSERT_TRUE(d) << status.dump();
    EXPECT_EQ((*d)["state"], "up") << name;
    EXPECT_EQ((*d)["associations"], kWorkers) << name;
    EXPECT_EQ((*d)["traffic"]["messages_out"], msgs) << name;
    EXPECT_EQ((*d)["traffic"]["bytes_out"], bytes) << name;
    EXPECT_EQ((*d)["traffic"]["dropped"], 0) << name;
  }

  json routes = ctl_json(relay, {"routes"});
  const json* low = find_named(routes["routes"], "name", "low");
  const json* high = find_named(routes["routes"], "name", "high");
  const json* dflt = find_named(routes["routes"], "name", "default");
  ASSERT_TRUE(low && high && dflt) << routes.dump();
  EXPECT_EQ((*low)["matched_messages"], to_a);
  EXPECT_EQ((*low)["matched_bytes"], bytes_a);
  EXPECT_EQ((*low)["targets"][0]["messages"], to_a);
  EXPECT_EQ((*low)["targets"][0]["bytes"], bytes_a);
  EXPECT_EQ((*high)["matched_messages"], to_b);
  EXPECT_EQ((*high)["targets"][0]["messages"], to_b);
  EXPECT_EQ((*high)["targets"][0]["bytes"], bytes_b);
  EXPECT_EQ((*dflt)["matched_messages"], 0);

  // Per association: each source's own count, and each worker's upstream association carries
  // exactly what that worker's sources sent to its destination.
  json assocs = ctl_json(relay, {"assocs"});
  std::map<std::pair<std::string, int>, int> upstreams;
  for (auto& as : assocs["associations"]) {
    const int w = as["worker"].get<int>();
    EXPECT_EQ(as["id"].get<uint64_t>() % kWorkers, uint64_t(w)) << as.dump();
    if (as["role"] == "upstream") {
      const std::string d = as["destination"];
      upstreams[{d, w}]++;
      EXPECT_EQ(as["kernel"]["state"], "ESTABLISHED");
      EXPECT_EQ(as["traffic"]["messages_out"], dest_msgs[d == "a" ? 0 : 1][w]) << d << " worker " << w;
      continue;
    }
    auto src = std::find_if(sources.begin(), sources.end(), [&](auto& s) { return s.id == as["id"]; });
    ASSERT_NE(src, sources.end()) << as.dump();
    const std::size_t i = std::size_t(src - sources.begin());
    EXPECT_EQ(as["worker"], src->worker);
    EXPECT_EQ(as["traffic"]["messages_in"], sent_msgs[i]) << "source " << i;
    EXPECT_EQ(as["traffic"]["bytes_in"], sent_bytes[i]) << "source " << i;
  }
  EXPECT_EQ(upstreams, (std::map<std::pair<std::string, int>, int>{{{"a", 0}, 1}, {{"a", 1}, 1}, {{"b", 0}, 1}, {{"b", 1}, 1}}));

  // The metrics: the same sums.
  auto [curl_status, text] = shell("curl -sS --fail --max-time 20 http://127.0.0.1:" + std::to_string(p + 5) + "/metrics");
  ASSERT_EQ(curl_status, 0) << text;
  EXPECT_EQ(metric_sample(text, "sctprelay_received_messages_total"), double(total));
  EXPECT_EQ(metric_sample(text, "sctprelay_forwarded_messages_total"), double(total));
  EXPECT_EQ(metric_sample(text, "sctprelay_listener_received_messages_total{listener=\"in\"}"), double(total));
  EXPECT_EQ(metric_sample(text, "sctprelay_listener_received_bytes_total{listener=\"in\"}"), double(total_bytes));
  EXPECT_EQ(metric_sample(text, "sctprelay_listener_associations{listener=\"in\"}"), double(n));
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_sent_messages_total{destination=\"a\"}"), double(to_a));
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_sent_bytes_total{destination=\"b\"}"), double(bytes_b));
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_associations{destination=\"a\"}"), double(kWorkers));
  EXPECT_EQ(metric_sample(text, "sctprelay_destination_up{destination=\"b\"}"), 1);
  EXPECT_EQ(metric_sample(text, "sctprelay_route_matched_messages_total{route=\"low\"}"), double(to_a));
  EXPECT_EQ(metric_sample(text, "sctprelay_route_matched_messages_total{route=\"high\"}"), double(to_b));
}

// ---------------------------------------------------------------------------------------------
// 1b. Placement: whatever worker the kernel gives a new association to, the relay evens them out
//     (each goes to the worker carrying the fewest). With the relay stopped (SIGSTOP) while
//     sources connect and send, each association's COMM_UP and its first messages wait together
//     in a listener's queue: the worker that reads them hands the association over with the
//     messages it already read, and the kernel moves the rest with its socket. Every message
//     arrives once, whole, in order per (source, stream).

TEST(RelayWorkers, NewAssociationsAreSpreadEvenlyAndWhatWasReadBeforeTheHandOverGoesWithThem) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(std::string("workers: 2\n") + kInToOut, p), "debug");
  ASSERT_TRUE(wait_ups(sink, kWorkers));
  constexpr int kRounds = 6, kPerRound = 8, kStreams = 2, kEarly = 24, kLate = 16;
  auto ppid = [](int src, int stream) { return uint32_t(0x100 * (src + 1) + stream); };
  std::vector<Source> sources;
  std::size_t expected = 0;
  auto send_range = [&](int src, int from, int to) {
    for (int seq = from; seq < to; ++seq)
      for (int stream = 0; stream < kStreams; ++stream) {
        ASSERT_TRUE(sources[src].peer->send(body(src, stream, seq), uint16_t(stream), ppid(src, stream), false, 0,
                                            Deadline::in(seconds(60))));
        ++expected;
      }
  };
  // How many associations the relay has handed over, and how many of them with messages the first
  // worker had already read (its debug log says).
  auto handovers = [&] {
    std::pair<std::size_t, std::size_t> n{0, 0};
    relay.process().drain();
    for (auto& line : relay.process().lines()) {
      auto at = line.find("handed over by worker ");
      unsigned from = 0;
      std::size_t items = 0;
      if (at == std::string::npos ||
          std::sscanf(line.c_str() + at, "handed over by worker %u with %zu", &from, &items) != 2)
        continue;
      ++n.first;
      n.second += items > 0;
    }
    return n;
  };
  // Eight at a time while the relay is stopped, until the kernel has put more of a round on one
  // worker than the other (so some were handed over): 8 split 4/4 happens 27% of the time.
  const pid_t pid = relay.process().pid();
  for (int round = 0; round < kRounds && handovers().second == 0; ++round) {
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    for (int i = 0; i < kPerRound; ++i) {
      ASSERT_NO_FATAL_FAILURE(add_source(sources, p));  // the kernel completes the handshake alone
      ASSERT_NO_FATAL_FAILURE(send_range(int(sources.size()) - 1, 0, kEarly));
    }
    ASSERT_EQ(::kill(pid, SIGCONT), 0);
    ASSERT_NO_FATAL_FAILURE(place(relay, sources));
    PerWorker n = per_worker(sources);
    EXPECT_EQ(n[0], n[1]) << sources.size() << " new associations are not spread evenly: " << n[0] << "/" << n[1];
  }
  EXPECT_GE(handovers().second, 1u) << "in " << sources.size() / kPerRound
                                    << " rounds, no association was handed over with messages already read";
  const int kSources = int(sources.size());
  for (int i = 0; i < kSources; ++i) ASSERT_NO_FATAL_FAILURE(send_range(i, kEarly, kEarly + kLate));

  std::vector<Msg> got = sink.recv_n(expected, Deadline::in(seconds(120)));
  ASSERT_EQ(got.size(), expected) << "messages lost";
  Numbered log{kSources, ppid};
  for (auto& m : got) {
    Named id;
    ASSERT_NO_FATAL_FAILURE(check_numbered(log, m, id));
  }
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300))));
  json status = ctl_json(relay, {"status"});
  EXPECT_EQ(status["totals"]["received"], expected);
  EXPECT_EQ(status["totals"]["forwarded"], expected);
  EXPECT_EQ(status["totals"]["dropped_no_target"], 0) << "a message of a handed-over association was lost";
  const json* in = find_named(status["listeners"], "name", "in");
  ASSERT_TRUE(in) << status.dump();
  EXPECT_EQ((*in)["associations"], kSources);
  EXPECT_EQ((*in)["accepted_total"], kSources);
  // One at a time now: each new one goes to the worker with fewer (4/4 -> 5/4 or 4/5 -> 5/5 ...).
  for (int i = 0; i < 4; ++i) {
    ASSERT_NO_FATAL_FAILURE(add_source(sources, p));
    ASSERT_NO_FATAL_FAILURE(place(relay, sources));
    PerWorker n = per_worker(sources);
    EXPECT_LE(std::max(n[0], n[1]) - std::min(n[0], n[1]), 1u) << "after " << sources.size() << ": " << n[0] << "/" << n[1];
  }
  // An end makes room where it happened: the next goes there.
  const int gone_worker = sources.front().worker;
  sources.front().peer.reset();  // closes: SHUTDOWN
  ASSERT_TRUE(wait_until([&] { return accepted_by_port(relay).count(sources.front().port) == 0; }, soon(),
                         milliseconds(50)));
  sources.erase(sources.begin());
  ASSERT_NO_FATAL_FAILURE(add_source(sources, p));
  ASSERT_NO_FATAL_FAILURE(place(relay, sources));
  EXPECT_EQ(sources.back().worker, gone_worker);
}

// ---------------------------------------------------------------------------------------------
// 2. The return path (`return: origin`): every source gets exactly its own replies, in order,
//    from a destination shared by each worker's sources and from one with an association per
//    source.

namespace {

std::string request(std::size_t src, int n, const char* via) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "src=%02zu request=%d via=%s", src, n, via);
  return buf;
}

}  // namespace

TEST(RelayWorkers, RepliesGoBackToTheirOwnSourceThroughTheWorkerThatCarriedTheRequest) {
  uint16_t p = ports_for_test();
  EchoPeer shared(p + 1), own(p + 2);
  Daemon relay(with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: shared, addresses: [127.0.0.1], port: {P1}, return: origin, associations: shared}
  - {name: own, addresses: [127.0.0.1], port: {P2}, return: origin, associations: per-source}
routes:
  - {from: in, streams: "0-14", to: shared}
  - {from: in, streams: 15, to: own}
)", p));
  ASSERT_TRUE(wait_until([&] { return shared.ups() >= kWorkers; })) << "each worker connects to the destination";
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  const std::size_t n = sources.size();

  // Shared: `return: origin` sends a reply to the association that last sent on its stream, so
  // within a worker each source has a stream of its own, and both workers use the same numbers
  // (each worker has its own association to the destination, and its own record of who sent on
  // which stream). Per-source: every source on stream 15 at once.
  constexpr uint16_t kOwnStream = 15;
  std::vector<uint16_t> stream(n);
  PerWorker next{};
  for (std::size_t i = 0; i < n; ++i) {
    stream[i] = uint16_t(next[sources[i].worker]++);
    ASSERT_LT(stream[i], kOwnStream) << "more sources on one worker than streams";
  }
  constexpr int kRequests = 8;
  for (int r = 0; r < kRequests; ++r)
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_TRUE(sources[i].peer->send(request(i, r, "shared"), stream[i], uint32_t(200 + i))) << i << " " << r;
      ASSERT_TRUE(sources[i].peer->send(request(i, r, "own"), kOwnStream, uint32_t(400 + i))) << i << " " << r;
    }

  for (std::size_t i = 0; i < n; ++i) {
    auto got = sources[i].peer->recv_n(2 * kRequests, Deadline::in(seconds(30)));
    ASSERT_EQ(got.size(), std::size_t(2 * kRequests)) << "source " << i << " on worker " << sources[i].worker;
    int via_shared = 0, via_own = 0;
    for (auto& m : got) {
      const bool is_own = m.info.stream == kOwnStream;
      int& r = is_own ? via_own : via_shared;
      EXPECT_EQ(m.text(), request(i, r, is_own ? "own" : "shared"))
          << "source " << i << " (worker " << sources[i].worker << ") got another's reply, or out of order";
      EXPECT_EQ(m.info.stream, is_own ? kOwnStream : stream[i]);
      EXPECT_EQ(m.info.ppid, uint32_t((is_own ? 400 : 200) + i));
      ++r;
    }
    EXPECT_EQ(via_shared, kRequests);
    EXPECT_EQ(via_own, kRequests);
  }
  Deadline settle = Deadline::in(milliseconds(300));
  for (std::size_t i = 0; i < n; ++i)
    EXPECT_TRUE(sources[i].peer->quiet_until(settle)) << "source " << i << " got a reply too many: "
                                                      << sources[i].peer->take_received().at(0).text();
  EXPECT_EQ(shared.echoed(), n * kRequests);
  EXPECT_EQ(own.echoed(), n * kRequests);
  EXPECT_FALSE(shared.failed() || own.failed());
  // Shared: one association per worker; per-source: one per source, on its source's worker.
  EXPECT_EQ(shared.ups(), std::size_t(kWorkers));
  EXPECT_EQ(own.ups(), n);
  json assocs = ctl_json(relay, {"assocs"});
  PerWorker to_shared{}, to_own{};
  for (auto& as : assocs["associations"]) {
    if (as["role"] != "upstream") continue;
    const int w = as["worker"].get<int>();
    EXPECT_EQ(as["id"].get<uint64_t>() % kWorkers, uint64_t(w)) << as.dump();
    if (as["destination"] == "shared") {
      to_shared[w]++;
      EXPECT_EQ(as["owner"], 0);
      continue;
    }
    to_own[w]++;
    const uint64_t owner = as["owner"].get<uint64_t>();
    auto src = std::find_if(sources.begin(), sources.end(), [&](auto& s) { return s.id == owner; });
    ASSERT_NE(src, sources.end()) << as.dump();
    EXPECT_EQ(src->worker, w) << "a source's own upstream association is on another worker";
  }
  EXPECT_EQ(to_shared, (PerWorker{1, 1}));
  EXPECT_EQ(to_own, per_worker(sources));
  auto stats = relay.stats();
  EXPECT_EQ(stats["replies_no_owner"], 0u);
  EXPECT_EQ(stats["dropped_no_target"], 0u);
  EXPECT_EQ(stats["received"], 4 * n * kRequests);
  EXPECT_EQ(stats["forwarded"], 4 * n * kRequests);

  // A source that leaves takes its own upstream association with it, on both workers; the
  // workers' shared ones stay.
  for (auto& s : sources) s.peer->shutdown();
  for (auto& s : sources) EXPECT_TRUE(s.peer->wait_down());
  EXPECT_TRUE(wait_until([&] { return own.downs() >= n; }, Deadline::in(seconds(30))))
      << "only " << own.downs() << " of " << n << " upstream associations were closed";
  EXPECT_EQ(shared.downs(), 0u);
}

// ---------------------------------------------------------------------------------------------
// 3. Reload: both workers take the new routes before `reload` answers; a refused file (a group
//    destination, which needs workers: 1) changes neither, and does not start a daemon either.

TEST(RelayWorkers, ReloadReroutesBothWorkersAtOnceAndARefusedFileKeepsTheOldRoutesOnBoth) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  const std::string only_a = with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
routes:
  - {name: to-a, from: in, to: a}
)", p);
  const std::string to_b = with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {name: to-b, from: in, to: b, set_ppid: 77}
)", p);
  // A group destination with two workers: refused (a group's members must be one loop's).
  const std::string with_group = with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
  - {name: g, kind: group, listener: in}
routes:
  - {name: to-g, from: in, streams: 9, to: g}
  - {name: to-a, from: in, to: a}
)", p);
  Daemon relay(only_a);
  ASSERT_TRUE(wait_ups(a, kWorkers));
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  const int n = int(sources.size());

  // Each source sends one message; `to` gets one from every source, nothing else arrives at `other`.
  auto round = [&](const std::string& tag, Peer& to, Peer& other, uint32_t want_ppid) {
    ASSERT_NO_FATAL_FAILURE(one_from_each(sources, to, tag, want_ppid));
    EXPECT_TRUE(other.quiet_until(Deadline::in(milliseconds(300)))) << tag << ": a message took the other route";
  };
  ASSERT_NO_FATAL_FAILURE(round("before", a, b, 5));

  // `reload` answers once both workers have the new routes: the very next messages, from sources
  // on either worker, take them (b is new: each worker opens its own association to it).
  relay.write_config(to_b);
  CtlResult applied = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  ASSERT_EQ(applied.status, 0) << applied.out << applied.err;
  EXPECT_NE(applied.out.find("generation 2"), std::string::npos) << applied.out;
  ASSERT_NO_FATAL_FAILURE(round("after", b, a, 77));
  EXPECT_EQ(count_state(b, SCTP_COMM_UP), std::size_t(kWorkers));

  // Refused: the file names the group and why; generation and routes stay, on both workers.
  relay.write_config(with_group);
  CtlResult refused = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  EXPECT_EQ(refused.status, 1) << refused.out << refused.err;
  const std::string said = refused.out + refused.err;
  EXPECT_NE(said.find(relay.config_path() + ":"), std::string::npos) << said;
  EXPECT_NE(said.find("is a group, which needs workers: 1"), std::string::npos) << said;
  json status = ctl_json(relay, {"status"});
  EXPECT_EQ(status["daemon"]["generation"], 2);
  EXPECT_EQ(status["destinations"].size(), 2u) << "the refused file's group was added";
  ASSERT_NO_FATAL_FAILURE(round("kept", b, a, 77));

  // Back to a by SIGHUP, with a different `workers:` in the file: applied (routes), the number of
  // loops stays until the next start, and says so.
  std::string to_a_three = only_a;
  to_a_three.replace(to_a_three.find("workers: 2"), 10, "workers: 3");
  std::size_t mark = relay.mark();
  ASSERT_TRUE(relay.reload(to_a_three));
  EXPECT_TRUE(relay.saw("workers: 3 takes effect at the next start; 2 workers carry on", soon(), mark));
  ASSERT_NO_FATAL_FAILURE(round("again", a, b, 5));
  status = ctl_json(relay, {"status"});
  EXPECT_EQ(status["daemon"]["generation"], 3);
  EXPECT_EQ(status["daemon"]["workers"], kWorkers);

  // No reload touched a source association.
  for (auto& s : sources) EXPECT_FALSE(ended(*s.peer, s.peer->assoc()));
  auto stats = relay.stats();
  EXPECT_EQ(stats["received"], uint64_t(4 * n));
  EXPECT_EQ(stats["dropped_no_route"], 0u);

  // A group with two workers in the file at start: the daemon does not start.
  TempDir dir;
  std::string path = dir.write("relay.yaml", with_ports(R"(workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P7}}
destinations:
  - {name: members, kind: group, listener: in}
routes:
  - {from: in, to: members}
)", p));
  Process start({SCTPRELAYD_BIN, "--config", path});
  EXPECT_EQ(start.wait_exit(), 1);
  EXPECT_TRUE(start.wait_line(path + ":5:12: destinations[0].name: destination \"members\" is a group, which needs "
                                     "workers: 1 (line 1 asks for 2): a group's members must all be accepted by one event loop",
                              Deadline::in(milliseconds(1))));
}

// ---------------------------------------------------------------------------------------------
// 4. The graceful stop with messages waiting in both workers' queues: they drain, every
//    association is SHUT DOWN, the daemon exits 0, nothing the relay read is lost.

namespace {

// `hold_sources`: the destination's queue is `when_full: backpressure` (the default), so past a
// few queued messages the relay stops reading the sources and some of what they sent is still
// unread in the relay's sockets at the stop. Otherwise (`when_full: drop`, never reached here) the
// relay reads everything before the stop and all of it waits in its queues.
void stop_with_messages_queued_on_both_workers(bool hold_sources) {
  uint16_t p = ports_for_test();
  // A slow destination: it reads nothing until the stop, so the relay's sends fill the kernel's
  // buffers and the rest waits in each worker's queue.
  Peer sink = Peer::listen(p + 1);
  std::string yaml = R"(
workers: 2
limits: {shutdown_drain: 60s}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}, queue: {when_full: WHEN_FULL}}
routes:
  - {from: in, to: out}
)";
  yaml.replace(yaml.find("WHEN_FULL"), 9, hold_sources ? "backpressure" : "drop");
  Daemon relay(with_ports(yaml, p));
  ASSERT_TRUE(wait_ups(sink, kWorkers));
  const std::vector<sctp_assoc_t> sink_assocs = up_ids(sink);
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  const int n = int(sources.size());

  // 6000-byte messages on streams 0-3, in rounds: each worker whose queue is still empty gets
  // kPerRound more from its sources, until both workers' queues hold messages.
  constexpr std::size_t kSize = 6000;
  constexpr int kPerRound = 200, kMaxRounds = 10;
  std::vector<int> sent(n, 0);
  uint64_t total = 0;
  auto queued = [&] {
    PerWorker q{};
    json assocs = ctl_json(relay, {"assocs", "--destination", "out"});
    for (auto& as : assocs["associations"]) q[as["worker"].get<int>()] += as["queued_messages"].get<std::size_t>();
    return q;
  };
  PerWorker q{};
  for (int round = 0; q[0] == 0 || q[1] == 0; ++round) {
    ASSERT_LT(round, kMaxRounds) << "messages queued per worker after " << round << " rounds: " << q[0] << ", " << q[1];
    for (unsigned w = 0; w < kWorkers; ++w) {
      if (q[w] > 0) continue;
      std::vector<int> mine;
      for (int i = 0; i < n; ++i)
        if (sources[i].worker == int(w)) mine.push_back(i);
      for (int k = 0; k < kPerRound; ++k) {
        const int i = mine[std::size_t(k) % mine.size()];
        const int seq = sent[i]++;
        ASSERT_TRUE(sources[i].peer->send(body(i, seq % 4, seq, kSize), uint16_t(seq % 4), uint32_t(300 + i), false, 0,
                                          Deadline::in(seconds(60))));
        ++total;
      }
    }
    if (hold_sources) {
      wait_until([&] { return q = queued(), q[0] > 0 && q[1] > 0; }, Deadline::in(seconds(3)), milliseconds(200));
    } else {
      // It has read all there is: what it could not send now waits in its queues.
      ASSERT_TRUE(wait_until([&] { return ctl_json(relay, {"status"})["totals"]["received"] == total; },
                             Deadline::in(seconds(60)), milliseconds(100)))
          << "the relay did not read all " << total << " messages";
      q = queued();
    }
  }

  // Stop now; the destination reads only once the daemon is stopping, until the relay has shut
  // both its associations down (after the last message was acknowledged).
  std::size_t mark = relay.mark();
  relay.process().signal(SIGTERM);
  ASSERT_TRUE(relay.saw("stopping: draining queues", soon(), mark));
  bool sink_down = true;
  std::thread reader([&] {
    for (sctp_assoc_t as : sink_assocs) sink_down = sink.wait_down(Deadline::in(seconds(120)), as) && sink_down;
  });
  auto status = relay.process().wait_exit(Deadline::in(seconds(150)));
  reader.join();
  ASSERT_TRUE(status) << "the daemon did not exit";
  EXPECT_EQ(*status, 0);
  EXPECT_TRUE(sink_down) << "the relay did not shut its associations to the destination down";
  EXPECT_FALSE(saw_line(relay, "drain deadline reached", mark));
  EXPECT_FALSE(saw_line(relay, "did not finish SHUTDOWN", mark));
  std::vector<Msg> got = sink.take_received();

  // Everything the relay read was delivered: once, byte for byte, in order per (source, stream);
  // what a source got through is the start of what it sent, without a gap (all of it, when the
  // relay had read everything before the stop).
  auto stats = last_stats(relay);
  ASSERT_GT(stats["received"], 0u) << "no final stats line";
  if (!hold_sources) {
    EXPECT_EQ(stats["received"], total);
  }
  EXPECT_EQ(got.size(), stats["received"]) << "messages the relay had read were lost at the stop";
  EXPECT_EQ(stats["forwarded"], stats["received"]);
  EXPECT_EQ(stats["queued_bytes"], 0u) << "the daemon exited with messages in its queues";
  for (auto& [k, v] : stats) {
    if (k.rfind("dropped_", 0) == 0) {
      EXPECT_EQ(v, 0u) << k;
    }
  }
  std::map<std::pair<int, int>, int> last;
  std::vector<std::set<int>> seqs(n);
  PerWorker delivered{};
  for (auto& m : got) {
    Named id = name_of(m);
    ASSERT_GE(id.src, 0);
    ASSERT_LT(id.src, n);
    ASSERT_EQ(m.info.stream, id.stream);
    ASSERT_EQ(m.info.ppid, uint32_t(300 + id.src));
    ASSERT_TRUE(m.text() == body(id.src, id.stream, id.seq, kSize)) << "src " << id.src << " seq " << id.seq;
    ASSERT_TRUE(seqs[id.src].insert(id.seq).second) << "duplicate src " << id.src << " seq " << id.seq;
    auto [it, fresh] = last.emplace(std::make_pair(id.src, id.stream), id.seq);
    if (!fresh) {
      ASSERT_GT(id.seq, it->second) << "src " << id.src << " stream " << id.stream << " out of order";
      it->second = id.seq;
    }
    delivered[sources[id.src].worker]++;
  }
  for (int i = 0; i < n; ++i) {
    if (!hold_sources) {
      EXPECT_EQ(int(seqs[i].size()), sent[i]) << "source " << i;
    }
    if (seqs[i].empty()) continue;
    EXPECT_EQ(*seqs[i].rbegin(), int(seqs[i].size()) - 1) << "source " << i << " lost a message in the middle";
    EXPECT_LE(int(seqs[i].size()), sent[i]);
  }
  EXPECT_GT(delivered[0], 0u);
  EXPECT_GT(delivered[1], 0u);

  // Every association ended with SHUTDOWN, on both workers, the destination's too.
  for (int i = 0; i < n; ++i) {
    Peer& s = *sources[i].peer;
    EXPECT_TRUE(s.wait_down(Deadline::in(seconds(10)))) << "source " << i << " (worker " << sources[i].worker << ")";
    EXPECT_EQ(count_state(s, SCTP_SHUTDOWN_COMP), 1u) << "source " << i << " (worker " << sources[i].worker << ")";
    EXPECT_EQ(count_state(s, SCTP_COMM_LOST), 0u) << "source " << i << " (worker " << sources[i].worker << ")";
  }
  EXPECT_EQ(count_state(sink, SCTP_SHUTDOWN_COMP), std::size_t(kWorkers));
  EXPECT_EQ(count_state(sink, SCTP_COMM_LOST), 0u);
}

}  // namespace

TEST(RelayWorkers, SigtermDrainsBothWorkersQueuesShutsEverySourceDownAndExitsZero) {
  stop_with_messages_queued_on_both_workers(false);
}

// What the sources had sent while backpressure held them back was acknowledged by the relay's
// kernel: the stop reads it (sources are shut down first, while the destinations are still up)
// and delivers it. Once, that was read only after the destinations had been shut down too, and
// the daemon exited with it queued, neither forwarded nor counted (with one worker as well).
TEST(RelayWorkers, SigtermWithSourcesHeldBackLosesNothingTheRelayRead) {
  stop_with_messages_queued_on_both_workers(true);
}

// ---------------------------------------------------------------------------------------------
// 5. The operator's levers across workers.

TEST(RelayWorkers, DisconnectFindsTheAssociationOnEitherWorkerAndTheClosedListShowsIt) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(std::string("workers: 2\n") + kInToOut, p));
  ASSERT_TRUE(wait_ups(sink, kWorkers));
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  const int n = int(sources.size());
  for (int i = 0; i < n; ++i) ASSERT_TRUE(sources[i].peer->send(body(i, 0, 0, 64), 0, 1));
  ASSERT_EQ(sink.recv_n(n).size(), std::size_t(n));

  auto on = [&](int worker) {
    return std::find_if(sources.begin(), sources.end(), [&](auto& s) { return s.worker == worker; }) - sources.begin();
  };
  const auto one = on(1), zero = on(0);
  ASSERT_EQ(sources[one].id % 2, 1u) << "worker 1 of 2 has the odd ids";
  ASSERT_EQ(sources[zero].id % 2, 0u) << "worker 0 of 2 has the even ids";

  CtlResult shut = relay.ctl({"--json", "disconnect", std::to_string(sources[one].id)});
  ASSERT_EQ(shut.status, 0) << shut.out << shut.err;
  EXPECT_EQ(shut.json["association"]["id"], sources[one].id);
  ASSERT_TRUE(sources[one].peer->wait_down());
  EXPECT_EQ(sources[one].peer->changes.back().state, SCTP_SHUTDOWN_COMP);
  CtlResult hard = relay.ctl({"disconnect", std::to_string(sources[zero].id), "--abort"});
  EXPECT_EQ(hard.status, 0) << hard.out << hard.err;
  ASSERT_TRUE(sources[zero].peer->wait_down());
  EXPECT_EQ(sources[zero].peer->changes.back().state, SCTP_COMM_LOST);
  // Ids no worker has: refused, whichever worker the id points at.
  EXPECT_EQ(relay.ctl({"disconnect", "999999"}).status, 1);
  EXPECT_EQ(relay.ctl({"disconnect", "999998"}).status, 1);

  json after;
  ASSERT_TRUE(wait_until([&] {
    after = ctl_json(relay, {"assocs", "--listener", "in"});
    return after["closed"].size() >= 2;
  }));
  const json* c1 = find_named(after["closed"], "id", sources[one].id);
  const json* c0 = find_named(after["closed"], "id", sources[zero].id);
  ASSERT_TRUE(c1 && c0) << after.dump();
  EXPECT_EQ((*c1)["cause"], "shut down by the operator");
  EXPECT_EQ((*c0)["cause"], "aborted by the operator");
  EXPECT_EQ((*c1)["traffic"]["messages_in"], 1);
  EXPECT_EQ((*c1)["listener"], "in");
  EXPECT_EQ(after["associations"].size(), std::size_t(n - 2));
  EXPECT_FALSE(find_named(after["associations"], "id", sources[one].id));
  EXPECT_FALSE(find_named(after["associations"], "id", sources[zero].id));

  // The others, on both workers, carry on.
  for (int i = 0; i < n; ++i) {
    if (i != one && i != zero) {
      ASSERT_TRUE(sources[i].peer->send(body(i, 0, 1, 64), 0, 1));
    }
  }
  auto got = sink.recv_n(n - 2);
  ASSERT_EQ(got.size(), std::size_t(n - 2));
  for (auto& m : got) EXPECT_EQ(name_of(m).seq, 1);
  for (int i = 0; i < n; ++i) {
    if (i != one && i != zero) {
      EXPECT_FALSE(ended(*sources[i].peer, sources[i].peer->assoc())) << i;
    }
  }
}

TEST(RelayWorkers, MaxAssociationsCountsBothWorkersAndRefusesTheFourthWhereverItLands) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, max_associations: 3}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: out}
)", p));
  ASSERT_TRUE(wait_ups(sink, kWorkers));
  // Three admitted, on both workers: while all three are on one, one leaves and another comes.
  std::vector<Source> admitted;
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(add_source(admitted, p));
  ASSERT_NO_FATAL_FAILURE(place(relay, admitted));
  uint64_t left = 0;
  for (PerWorker k = per_worker(admitted); k[0] == 0 || k[1] == 0; k = per_worker(admitted)) {
    ASSERT_LT(left, kMaxSources) << "after " << left + 3 << " source associations every admitted one was on one worker";
    Source gone = std::move(admitted.back());
    admitted.pop_back();
    gone.peer->shutdown();
    ASSERT_TRUE(gone.peer->wait_down());
    ++left;
    ASSERT_TRUE(wait_until([&] { return accepted_by_port(relay).size() == 2; }));
    ASSERT_NO_FATAL_FAILURE(add_source(admitted, p));
    ASSERT_NO_FATAL_FAILURE(place(relay, admitted));
  }

  // At the limit: every new one is refused (ABORT) whichever worker the kernel hands it to (with
  // the limit counted per worker, each worker has fewer than 3 and would admit it).
  constexpr int kExtra = 4;
  for (int i = 0; i < kExtra; ++i) {
    Peer extra = Peer::connect(p);
    extra.send("one too many", 0, 1);
    ASSERT_TRUE(extra.wait_down(Deadline::in(seconds(10)))) << "extra association " << i << " was admitted";
    EXPECT_TRUE(aborted_by_relay(extra, extra.assoc())) << "extra association " << i;
  }
  for (std::size_t i = 0; i < admitted.size(); ++i)
    ASSERT_TRUE(admitted[i].peer->send(body(int(i), 0, 0, 64), 0, 1));
  auto got = sink.recv_n(3);
  ASSERT_EQ(got.size(), 3u);
  for (auto& m : got) EXPECT_GE(name_of(m).src, 0) << "a refused association's message got through: " << m.text();
  EXPECT_TRUE(sink.quiet_until(Deadline::in(milliseconds(300)))) << "a refused association's message got through";

  json status = ctl_json(relay, {"status"});
  const json* in = find_named(status["listeners"], "name", "in");
  ASSERT_TRUE(in) << status.dump();
  EXPECT_EQ((*in)["associations"], 3);
  EXPECT_EQ((*in)["refused_max_associations"], kExtra);
  EXPECT_EQ((*in)["accepted_total"], 3 + left);
  EXPECT_EQ(status["totals"]["refused_max_associations"], kExtra);

  // One leaves: room for exactly one more, on whichever worker.
  Source gone = std::move(admitted.front());
  admitted.erase(admitted.begin());
  gone.peer->shutdown();
  ASSERT_TRUE(gone.peer->wait_down());
  ASSERT_TRUE(wait_until([&] { return accepted_by_port(relay).size() == 2; }));
  ASSERT_NO_FATAL_FAILURE(add_source(admitted, p));
  ASSERT_TRUE(admitted.back().peer->send("welcome", 2, 3));
  auto m = sink.recv(Deadline::in(seconds(10)));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "welcome");
  EXPECT_FALSE(ended(*admitted.back().peer, admitted.back().peer->assoc()));
  ASSERT_NO_FATAL_FAILURE(place(relay, admitted));
  Peer over = Peer::connect(p);
  ASSERT_TRUE(over.wait_down(Deadline::in(seconds(10)))) << "a fourth was admitted after one left and one came";
  EXPECT_TRUE(aborted_by_relay(over, over.assoc()));
}

TEST(RelayWorkers, DrainMovesNewMessagesToTheOtherTargetOnBothWorkersAndUndrainBringsThemBack) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1), b = Peer::listen(p + 2);
  Daemon relay(with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
  - {name: b, addresses: [127.0.0.1], port: {P2}}
routes:
  - {name: spread, from: in, to: [a, b], mode: balance, balance: by-stream}
)", p));
  ASSERT_TRUE(wait_ups(a, kWorkers));
  ASSERT_TRUE(wait_ups(b, kWorkers));
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  const int n = int(sources.size());

  // Each source sends on streams 0 (a's by stream) and 1 (b's); `where` says which sink gets which.
  int seq = 0;
  auto round = [&](Peer& for0, Peer& for1, std::size_t at0, std::size_t at1, const std::string& tag) {
    const int s = seq++;
    for (int i = 0; i < n; ++i)
      for (uint16_t stream : {0, 1}) ASSERT_TRUE(sources[i].peer->send(body(i, stream, s, 80), stream, 9));
    std::map<Peer*, std::vector<Msg>> got;
    for (auto [sink, k] : {std::pair{&a, (&for0 == &a ? at0 : 0) + (&for1 == &a ? at1 : 0)},
                           std::pair{&b, (&for0 == &b ? at0 : 0) + (&for1 == &b ? at1 : 0)}}) {
      got[sink] = sink->recv_n(k, Deadline::in(seconds(30)));
      ASSERT_EQ(got[sink].size(), k) << tag;
    }
    EXPECT_TRUE(a.quiet_until(Deadline::in(milliseconds(300)))) << tag;
    EXPECT_TRUE(b.quiet_until(Deadline::in(milliseconds(1)))) << tag;
    for (auto* sink : {&a, &b}) {
      PerWorker via{};
      std::set<sctp_assoc_t> assocs;
      for (auto& m : got[sink]) {
        Named id = name_of(m);
        ASSERT_GE(id.src, 0);
        ASSERT_LT(id.src, n);
        EXPECT_EQ(id.seq, s) << tag;
        EXPECT_EQ(m.text(), body(id.src, id.stream, s, 80)) << tag;
        EXPECT_EQ(m.info.stream, id.stream) << tag;
        EXPECT_EQ(m.info.ppid, 9u) << tag;
        EXPECT_TRUE((sink == &for0 && id.stream == 0) || (sink == &for1 && id.stream == 1))
            << tag << ": stream " << id.stream << " went to the wrong sink";
        via[sources[id.src].worker]++;
        assocs.insert(m.info.assoc);
      }
      if (got[sink].empty()) continue;
      // Sources on both workers, each worker over its own association.
      EXPECT_GT(via[0], 0u) << tag;
      EXPECT_GT(via[1], 0u) << tag;
      EXPECT_EQ(assocs.size(), std::size_t(kWorkers)) << tag;
    }
  };
  ASSERT_NO_FATAL_FAILURE(round(a, b, n, n, "before"));

  CtlResult drain = relay.ctl({"--json", "drain", "a"});
  ASSERT_EQ(drain.status, 0) << drain.out << drain.err;
  EXPECT_EQ(drain.json["destination"]["drained"], true);
  ASSERT_NO_FATAL_FAILURE(round(b, b, n, n, "drained"));
  ASSERT_NO_FATAL_FAILURE(round(b, b, n, n, "still drained"));

  json routes = ctl_json(relay, {"routes"});
  const json* spread = find_named(routes["routes"], "name", "spread");
  ASSERT_TRUE(spread) << routes.dump();
  EXPECT_EQ((*spread)["matched_messages"], 6 * n);
  EXPECT_EQ((*spread)["targets"][0]["drained"], true);
  EXPECT_EQ((*spread)["targets"][0]["messages"], n);
  EXPECT_EQ((*spread)["targets"][1]["messages"], 5 * n);
  json dests = ctl_json(relay, {"destinations"});
  const json* da = find_named(dests["destinations"], "name", "a");
  ASSERT_TRUE(da) << dests.dump();
  EXPECT_EQ((*da)["drained"], true);
  EXPECT_EQ((*da)["queued_messages"], 0);

  ASSERT_EQ(relay.ctl({"undrain", "a"}).status, 0);
  ASSERT_NO_FATAL_FAILURE(round(a, b, n, n, "undrained"));
  auto stats = relay.stats();
  EXPECT_EQ(stats["received"], uint64_t(8 * n));
  EXPECT_EQ(stats["forwarded"], uint64_t(8 * n));
}

// ---------------------------------------------------------------------------------------------
// 7. A listener changed by a reload (another address, another port) is changed on both workers:
//    new associations reach it on either, the ones it carried keep going; or, when one cannot be
//    bound, the reload is refused on both and the old listener works on both.

TEST(RelayWorkers, AListenerGivenAnotherAddressOrPortByReloadChangesOnBothWorkersOrOnNeither) {
  uint16_t p = ports_for_test();
  Peer a = Peer::listen(p + 1);
  auto config = [&](const std::string& addresses, uint16_t port) {
    return with_ports(R"(
workers: 2
listeners:
  - {name: in, addresses: )" + addresses + R"(, port: )" + std::to_string(port) + R"(}
destinations:
  - {name: a, addresses: [127.0.0.1], port: {P1}}
routes:
  - {name: to-a, from: in, to: a}
)", p);
  };
  Daemon relay(config("[127.0.0.1]", p));
  ASSERT_TRUE(wait_ups(a, kWorkers));
  std::vector<Source> sources;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));

  int sent = 0;
  auto all_through = [&](const std::string& tag) {
    ASSERT_NO_FATAL_FAILURE(one_from_each(sources, a, tag, 5));
    sent += int(sources.size());
  };
  ASSERT_NO_FATAL_FAILURE(all_through("first"));

  // Another address on the same port, while another program listens there on that address: the
  // workers' old sockets close (the new one could not join them: SO_REUSEPORT sockets must agree
  // on their addresses), the new ones cannot bind, the old ones are bound again on both workers.
  auto squatter = std::make_unique<Peer>(Peer::listen(p, {"127.0.0.2"}));
  relay.write_config(config("[127.0.0.1, 127.0.0.2]", p));
  std::size_t mark = relay.mark();
  CtlResult r = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  ASSERT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_TRUE(relay.saw("listener in worker 0: bound again as it was", soon(), mark));
  EXPECT_TRUE(relay.saw("listener in worker 1: bound again as it was", soon(), mark));
  EXPECT_NE((r.out + r.err).find("cannot bind 127.0.0.1,127.0.0.2:" + std::to_string(p)), std::string::npos) << r.out << r.err;
  EXPECT_EQ(ctl_json(relay, {"status"})["daemon"]["generation"], 1);
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources));
  ASSERT_NO_FATAL_FAILURE(all_through("refused"));

  // Once it is gone: each worker's socket is bound anew.
  squatter.reset();
  r = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p, sources, 1, {"127.0.0.2"}));
  ASSERT_NO_FATAL_FAILURE(all_through("second address"));

  // Another port.
  relay.write_config(config("[127.0.0.1, 127.0.0.2]", p + 3));
  r = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  ASSERT_NO_FATAL_FAILURE(open_on_both_workers(relay, p + 3, sources));
  ASSERT_NO_FATAL_FAILURE(all_through("other port"));

  // A port another sctprelayd with workers listens on (SO_REUSEPORT, same user): refused, as at
  // start (the first worker tries a plain socket on a port none of its listeners holds).
  Daemon other(config("[127.0.0.1, 127.0.0.2]", p + 4));
  relay.write_config(config("[127.0.0.1, 127.0.0.2]", p + 4));
  r = relay.ctl({"reload"}, Deadline::in(seconds(60)));
  ASSERT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("another socket already uses SCTP port " + std::to_string(p + 4)), std::string::npos)
      << r.out << r.err;
  ASSERT_NO_FATAL_FAILURE(all_through("not joined"));

  for (auto& s : sources) EXPECT_FALSE(ended(*s.peer, s.peer->assoc()));
  auto stats = relay.stats();
  EXPECT_EQ(stats["received"], uint64_t(sent));
}
