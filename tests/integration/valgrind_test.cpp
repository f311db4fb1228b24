// The daemon under valgrind's memcheck through one busy life: associations that come up and end
// with SHUTDOWN and with ABORT, messages forwarded both ways (requests and replies), a queue that
// fills while its destination is down and drains once it is back, reloads applied and refused, an
// association ABORTed for an oversize message, and a graceful stop. Memcheck must find no error
// (invalid reads or writes, uninitialised values reaching a branch or a system call, bad frees) and
// no leak: 0 bytes definitely, indirectly or possibly lost.
//
// Skipped in the AddressSanitizer build (valgrind cannot run a program built with it; that build
// has its own checks). Fails, not skips, when valgrind is not installed (tools/install-deps.sh
// installs it).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/yaml.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCTPRELAY_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCTPRELAY_TEST_UNDER_ASAN 1
#endif
#endif

using namespace harness;
using std::chrono::milliseconds;
using std::chrono::seconds;

#ifndef SCTPRELAY_TEST_UNDER_ASAN  // the helpers of a test that an ASan build skips
namespace {

const char* kValgrind = "/usr/bin/valgrind";

// Everything under valgrind in the emulated VM is some 50 times slower than without it.
Deadline slow() { return Deadline::in(seconds(90)); }

// `in` to `out` (a small queue: 20 messages), one oversize limit of 64 KiB.
const char* kFirst = R"(
limits: {max_message_size: 64KiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, streams: 8}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 200ms}
    queue: {max_messages: 20, when_full: backpressure}
routes:
  - {from: in, to: out}
)";

// Adds destination `extra`, which gets stream 5.
const char* kWithExtra = R"(
limits: {max_message_size: 64KiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, streams: 8}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    reconnect: {min: 50ms, max: 200ms}
    queue: {max_messages: 20, when_full: backpressure}
  - {name: extra, addresses: [127.0.0.1], port: {P2}}
routes:
  - {from: in, streams: 5, to: extra}
  - {from: in, to: out}
)";

// A route to a destination that does not exist: refused.
const char* kBroken = R"(
limits: {max_message_size: 64KiB}
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, streams: 8}
destinations:
  - {name: out, addresses: [127.0.0.1], port: {P1}}
routes:
  - {from: in, to: nowhere}
)";

bool lost(const Peer& peer, sctp_assoc_t assoc) {
  return std::any_of(peer.changes.begin(), peer.changes.end(),
                     [&](const auto& c) { return c.assoc == assoc && c.state == SCTP_COMM_LOST; });
}

// The first line valgrind wrote about process `pid` ("==PID== ...") that contains `needle`, or "".
std::string valgrind_line(const Process& p, pid_t pid, const std::string& needle) {
  const std::string prefix = "==" + std::to_string(pid) + "==";
  for (const auto& l : p.lines())
    if (l.rfind(prefix, 0) == 0 && l.find(needle) != std::string::npos) return l;
  return "";
}

// Sends messages first..last-1 of `source` on streams 0-3 and checks they arrive at `sink` as sent.
void relay_requests(Peer& source, Peer& sink, int first, int last) {
  for (int i = first; i < last; ++i) ASSERT_TRUE(source.send(payload(100 + i, i, uint16_t(i % 4)), uint16_t(i % 4), 5));
  auto got = sink.recv_n(last - first, slow());
  ASSERT_EQ(got.size(), std::size_t(last - first));
  for (int i = first; i < last; ++i) {
    const Msg& m = got[i - first];
    ASSERT_EQ(m.text(), payload(100 + i, i, uint16_t(i % 4))) << "message " << i;
    ASSERT_EQ(m.info.stream, i % 4);
    ASSERT_EQ(m.info.ppid, 5u);
  }
}

}  // namespace
#endif

TEST(Valgrind, MemcheckFindsNoErrorAndNoLeakThroughABusyLife) {
#ifdef SCTPRELAY_TEST_UNDER_ASAN
  GTEST_SKIP() << "valgrind cannot run an AddressSanitizer build (this build checks with ASan instead)";
#else
  ASSERT_EQ(::access(kValgrind, X_OK), 0) << kValgrind << " is not installed (tools/install-deps.sh installs it)";
  uint16_t p = ports_for_test();
  auto sink = std::make_unique<Peer>(Peer::listen(p + 1));
  DaemonOptions options;
  options.wrapper = {kValgrind, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                     "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99", "--track-fds=no",
                     "--num-callers=30"};
  options.startup = seconds(240);
  options.answer = seconds(90);
  Daemon relay(with_ports(kFirst, p), options);
  ASSERT_TRUE(sink->wait_up(slow()));
  ASSERT_TRUE(relay.saw("destination out up", slow()));

  // Requests one way, replies the other (return: origin).
  Peer a = Peer::connect(p, {"127.0.0.1"}, 8);
  relay_requests(a, *sink, 0, 20);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sink->send("reply " + std::to_string(i), uint16_t(i % 4), 6));
  auto replies = a.recv_n(10, slow());
  ASSERT_EQ(replies.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(replies[i].text(), "reply " + std::to_string(i));
    EXPECT_EQ(replies[i].info.stream, i % 4);
    EXPECT_EQ(replies[i].info.ppid, 6u);
  }

  // The destination goes away (ABORT); the queue for it fills (20 messages) and the relay holds the
  // source back; the destination comes back and gets everything, in order.
  std::size_t mark = relay.mark();
  sink->abort();
  sink.reset();
  ASSERT_TRUE(relay.saw("destination out down", slow(), mark));
  for (int i = 20; i < 80; ++i) ASSERT_TRUE(a.send(payload(100 + i, i, uint16_t(i % 4)), uint16_t(i % 4), 5));
  ASSERT_TRUE(relay.wait_stat("backpressure_pauses", 1, slow())) << "the queue never filled";
  sink = std::make_unique<Peer>(Peer::listen(p + 1));
  ASSERT_TRUE(sink->wait_up(slow()));
  auto drained = sink->recv_n(60, slow());
  ASSERT_EQ(drained.size(), 60u);
  for (int i = 20; i < 80; ++i) ASSERT_EQ(drained[i - 20].text(), payload(100 + i, i, uint16_t(i % 4))) << i;

  // A reload that adds a destination, one that is refused, one that removes it again (its association
  // is shut down).
  Peer extra = Peer::listen(p + 2);
  ASSERT_TRUE(relay.reload(with_ports(kWithExtra, p)));
  ASSERT_TRUE(extra.wait_up(slow()));
  ASSERT_TRUE(a.send("to extra", 5, 7));
  auto m = extra.recv(slow());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->text(), "to extra");
  EXPECT_FALSE(relay.reload(with_ports(kBroken, p)));
  ASSERT_TRUE(relay.reload(with_ports(kFirst, p)));
  ASSERT_TRUE(extra.wait_down(slow())) << "the removed destination's association was not ended";
  relay_requests(a, *sink, 80, 100);

  // A source ABORTed for a message above the limit; one that ends with SHUTDOWN, one with ABORT.
  Peer big = Peer::connect(p, {"127.0.0.1"}, 8);
  big.force_buffers(0, 1 << 20);
  ASSERT_TRUE(big.send(payload(100000, 1, 1), 1, 8));
  ASSERT_TRUE(big.wait_down(slow()));
  EXPECT_TRUE(lost(big, big.assoc())) << "ended, but not by an ABORT";
  Peer gentle = Peer::connect(p, {"127.0.0.1"}, 8), rough = Peer::connect(p, {"127.0.0.1"}, 8);
  relay_requests(gentle, *sink, 100, 110);
  relay_requests(rough, *sink, 110, 120);
  auto before = relay.stats();
  gentle.shutdown();
  ASSERT_TRUE(gentle.wait_down(slow()));
  rough.abort();
  ASSERT_TRUE(relay.wait_stat("assoc_down_shutdown", before["assoc_down_shutdown"] + 1, slow()));
  ASSERT_TRUE(relay.wait_stat("assoc_down_abort", before["assoc_down_abort"] + 1, slow()));
  auto stats = relay.stats();
  EXPECT_EQ(stats["oversize_aborted"], 1u);
  EXPECT_GE(stats["assoc_down_abort"], 3u);  // the destination, the oversize source, `rough`
  EXPECT_GT(stats["queued"], 0u);
  EXPECT_GE(stats["forwarded"], 131u);  // 120 requests, 1 to `extra`, 10 replies

  // A graceful stop with a source and the destination still up.
  auto status = relay.stop(Deadline::in(seconds(240)));
  ASSERT_TRUE(status) << "the daemon under valgrind did not exit after SIGTERM";
  const Process& vg = relay.process();
  const pid_t pid = vg.pid();  // valgrind runs the daemon in its own process
  std::string errors = valgrind_line(vg, pid, "ERROR SUMMARY:");
  EXPECT_NE(errors.find("ERROR SUMMARY: 0 errors from 0 contexts"), std::string::npos) << errors;
  if (valgrind_line(vg, pid, "All heap blocks were freed").empty()) {
    for (const char* kind : {"definitely lost: ", "indirectly lost: ", "possibly lost: "}) {
      std::string l = valgrind_line(vg, pid, kind);
      EXPECT_NE(l.find(std::string(kind) + "0 bytes in 0 blocks"), std::string::npos) << (l.empty() ? kind : l);
    }
  }
  EXPECT_EQ(*status, 0) << "valgrind found errors (exit status 99) or the daemon failed";
  EXPECT_TRUE(sink->wait_down(slow())) << "the destination was not shut down at the stop";
  EXPECT_TRUE(a.wait_down(slow())) << "the source was not shut down at the stop";
  for (auto* peer : {sink.get(), &a}) EXPECT_FALSE(lost(*peer, peer->assoc())) << "ABORTed at the stop, not shut down";
#endif
}
