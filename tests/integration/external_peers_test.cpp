// Peers this project did not write, through the real daemon: Python's socket module (SCTP_SNDINFO
// and SCTP_RCVINFO ancillary data), socat and ncat. What the foreign end sent or received is
// checked byte for byte, with stream and PPID where the tool can carry them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "harness/daemon.h"
#include "harness/peer.h"
#include "harness/process.h"
#include "harness/yaml.h"

using namespace harness;

namespace {

const char* kPython = "/usr/bin/python3";

// Listener `in` on P0, destination `out` on P1, everything from `in` to `out`.
const char* kOneWay = R"(
listeners:
  - {name: in, addresses: [127.0.0.1], port: {P0}, streams: 16}
destinations:
  - name: out
    addresses: [127.0.0.1]
    port: {P1}
    streams: 16
    reconnect: {min: 50ms, max: 200ms}
routes:
  - {from: in, to: out}
)";

// An SCTP source in Python: a one-to-one socket connects to 127.0.0.1:argv[1] and sends one
// message per further argument "stream:ppid:hex-payload" with sendmsg and an SCTP_SNDINFO cmsg.
const char* kPythonSource = R"(
import socket, struct, sys
IPPROTO_SCTP, SCTP_INITMSG, SCTP_SNDINFO = 132, 2, 2
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
s.setsockopt(IPPROTO_SCTP, SCTP_INITMSG, struct.pack('=HHHH', 16, 16, 0, 0))
s.connect(('127.0.0.1', int(sys.argv[1])))
print('connected', flush=True)
for arg in sys.argv[2:]:
    sid, ppid, data = arg.split(':', 2)
    # struct sctp_sndinfo { u16 snd_sid; u16 snd_flags; u32 snd_ppid; u32 snd_context; s32 snd_assoc_id; }
    info = struct.pack('=HHIIi', int(sid), 0, socket.htonl(int(ppid)), 0, 0)
    n = s.sendmsg([bytes.fromhex(data)], [(IPPROTO_SCTP, SCTP_SNDINFO, info)])
    print('sent stream=%s ppid=%s len=%d' % (sid, ppid, n), flush=True)
s.close()
print('closed', flush=True)
)";

// An SCTP destination in Python: a one-to-many socket listens on 127.0.0.1:argv[1] with
// SCTP_RECVRCVINFO on, and prints one line per message until argv[2] messages came:
// "msg stream=S ppid=P len=N hex=...". Notifications are skipped; partial reads are joined.
const char* kPythonSink = R"(
import socket, struct, sys
IPPROTO_SCTP, SCTP_INITMSG, SCTP_RECVRCVINFO, SCTP_RCVINFO = 132, 2, 32, 3
MSG_NOTIFICATION = 0x8000
s = socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, IPPROTO_SCTP)
s.setsockopt(IPPROTO_SCTP, SCTP_INITMSG, struct.pack('=HHHH', 16, 16, 0, 0))
s.setsockopt(IPPROTO_SCTP, SCTP_RECVRCVINFO, 1)
s.bind(('127.0.0.1', int(sys.argv[1])))
s.listen(4)
print('listening', flush=True)
want, got, buf, sid, ppid = int(sys.argv[2]), 0, b'', None, None
while got < want:
    data, anc, flags, addr = s.recvmsg(1 << 20, socket.CMSG_SPACE(64))
    if flags & MSG_NOTIFICATION:
        continue
    for level, kind, value in anc:
        if level == IPPROTO_SCTP and kind == SCTP_RCVINFO:
            # struct sctp_rcvinfo { u16 sid, ssn, flags; u32 ppid, tsn, cumtsn, context; s32 assoc_id; }
            sid, ssn, rflags, ppid_n, tsn, cum, ctx, assoc = struct.unpack('=HHH2xIIIIi', value[:28])
            ppid = socket.ntohl(ppid_n)
    buf += data
    if not flags & socket.MSG_EOR:
        continue
    print('msg stream=%s ppid=%s len=%d hex=%s' % (sid, ppid, len(buf), buf.hex()), flush=True)
    got, buf = got + 1, b''
print('done', flush=True)
)";

struct Sent {
  uint16_t stream;
  uint32_t ppid;
  std::string data;
};

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

// Streams interleave freely; order holds within each stream. Compare stream by stream.
const std::vector<Sent> kMessages = {
    {0, 46, "hello from a foreign peer"},
    {3, 60, all_bytes()},
    {15, 0xFFFFFFFFu, payload(3000, 2, 15)},
    {3, 61, "second on stream 3"},
    {7, 18, "x"},
    {0, 0, payload(20000, 5, 0)},
};

std::vector<std::string> python_source_argv(uint16_t port, const std::vector<Sent>& msgs) {
  std::vector<std::string> argv{kPython, "-c", kPythonSource, std::to_string(port)};
  for (auto& m : msgs) argv.push_back(std::to_string(m.stream) + ":" + std::to_string(m.ppid) + ":" + hex(m.data));
  return argv;
}

std::string sink_line(const Sent& m) {
  return "msg stream=" + std::to_string(m.stream) + " ppid=" + std::to_string(m.ppid) +
         " len=" + std::to_string(m.data.size()) + " hex=" + hex(m.data);
}

// The "msg ..." lines the Python sink printed, in the order printed.
std::vector<std::string> sink_lines(const Process& p) {
  std::vector<std::string> out;
  for (auto& l : p.lines())
    if (l.rfind("msg ", 0) == 0) out.push_back(l);
  return out;
}

// Lines grouped per stream (the text after "stream=" up to the space), order kept within a stream.
std::map<std::string, std::vector<std::string>> per_stream(const std::vector<std::string>& lines) {
  std::map<std::string, std::vector<std::string>> out;
  for (auto& l : lines) {
    auto at = l.find("stream=") + 7;
    out[l.substr(at, l.find(' ', at) - at)].push_back(l);
  }
  return out;
}

Process::Options with_stdin() {
  Process::Options o;
  o.stdin_pipe = true;
  return o;
}

// Waits for the association from `tool` to be up at the relay's listener.
void expect_listener_up(Daemon& relay, std::size_t from) {
  ASSERT_TRUE(relay.saw("association up: listener in", soon(), from)) << "the foreign source never connected";
}

}  // namespace

TEST(ExternalPeers, PythonSourceWithSndinfoArrivesByteExactWithStreamAndPpid) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  Process python(python_source_argv(p, kMessages));
  ASSERT_TRUE(python.wait_line("closed")) << "the Python source did not send everything";
  EXPECT_EQ(python.wait_exit(), 0);

  auto got = sink.recv_n(kMessages.size());
  ASSERT_EQ(got.size(), kMessages.size());
  std::map<uint16_t, std::vector<const Msg*>> got_by_stream;
  for (auto& m : got) got_by_stream[m.info.stream].push_back(&m);
  std::map<uint16_t, std::vector<const Sent*>> sent_by_stream;
  for (auto& m : kMessages) sent_by_stream[m.stream].push_back(&m);
  ASSERT_EQ(got_by_stream.size(), sent_by_stream.size());
  for (auto& [stream, sent] : sent_by_stream) {
    auto& arrived = got_by_stream[stream];
    ASSERT_EQ(arrived.size(), sent.size()) << "stream " << stream;
    for (std::size_t i = 0; i < sent.size(); ++i) {
      SCOPED_TRACE("stream " + std::to_string(stream) + " message " + std::to_string(i));
      EXPECT_EQ(arrived[i]->info.ppid, sent[i]->ppid);
      EXPECT_FALSE(arrived[i]->info.unordered);
      EXPECT_EQ(arrived[i]->data.size(), sent[i]->data.size());
      EXPECT_TRUE(arrived[i]->text() == sent[i]->data) << "payload differs";
    }
  }
  EXPECT_TRUE(sink.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
  // The Python end closed gracefully: the relay saw a SHUTDOWN, not an ABORT.
  EXPECT_TRUE(relay.saw("association down: listener in"));
  EXPECT_TRUE(relay.saw(": shutdown"));
}

TEST(ExternalPeers, PythonDestinationReadsStreamAndPpidFromRcvinfo) {
  uint16_t p = ports_for_test();
  Process python({kPython, "-c", kPythonSink, std::to_string(p + 1), std::to_string(kMessages.size())});
  ASSERT_TRUE(python.wait_line("listening"));
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(relay.saw("destination out up")) << "the relay did not reach the Python listener";
  Peer source = Peer::connect(p);

  for (auto& m : kMessages) ASSERT_TRUE(source.send(m.data, m.stream, m.ppid));
  ASSERT_TRUE(python.wait_line("done")) << "the Python destination did not get every message";
  EXPECT_EQ(python.wait_exit(), 0);

  std::vector<std::string> expected;
  for (auto& m : kMessages) expected.push_back(sink_line(m));
  auto got = sink_lines(python);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(per_stream(got), per_stream(expected));
}

TEST(ExternalPeers, PythonSourceToPythonDestinationThroughTheRelay) {
  uint16_t p = ports_for_test();
  Process sink({kPython, "-c", kPythonSink, std::to_string(p + 1), std::to_string(kMessages.size())});
  ASSERT_TRUE(sink.wait_line("listening"));
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(relay.saw("destination out up"));

  Process source(python_source_argv(p, kMessages));
  ASSERT_TRUE(sink.wait_line("done")) << "the Python destination did not get every message";
  EXPECT_EQ(source.wait_exit(), 0);
  EXPECT_EQ(sink.wait_exit(), 0);

  std::vector<std::string> expected;
  for (auto& m : kMessages) expected.push_back(sink_line(m));
  auto got = sink_lines(sink);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(per_stream(got), per_stream(expected));
}

TEST(ExternalPeers, SocatDestinationReceivesEveryLineInOrder) {
  uint16_t p = ports_for_test();
  Process socat({"socat", "-u", "SCTP-LISTEN:" + std::to_string(p + 1) + ",bind=127.0.0.1,reuseaddr", "STDOUT"});
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(relay.saw("destination out up")) << "the relay did not reach socat";
  Peer source = Peer::connect(p);

  std::vector<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    expected.push_back("line " + std::to_string(i) + " " + payload(40 + i, i, 2));
    ASSERT_TRUE(source.send(expected.back() + "\n", 2, 99));
  }
  ASSERT_TRUE(socat.wait_line("line 49 ")) << "socat did not print the last line";
  EXPECT_EQ(socat.lines(), expected);
}

TEST(ExternalPeers, SocatSourceEachWriteArrivesAsOneMessage) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  std::size_t from = relay.mark();
  Process socat({"socat", "-u", "STDIN", "SCTP-CONNECT:127.0.0.1:" + std::to_string(p)}, with_stdin());
  expect_listener_up(relay, from);
  // One write at a time, each awaited at the sink: socat sends what one read returns as one message.
  for (int i = 0; i < 10; ++i) {
    std::string text = "socat message " + std::to_string(i) + " " + payload(100 + i * 37, i) + "\n";
    ASSERT_TRUE(socat.write_stdin(text));
    auto m = sink.recv();
    ASSERT_TRUE(m) << "message " << i << " did not arrive";
    EXPECT_TRUE(m->text() == text) << "message " << i << " differs: " << m->text();
    EXPECT_EQ(m->info.stream, 0);  // socat sends with the defaults
    EXPECT_EQ(m->info.ppid, 0u);
  }
  socat.close_stdin();
  EXPECT_EQ(socat.wait_exit(), 0);
  EXPECT_TRUE(relay.saw("association down: listener in", soon(), from));
  EXPECT_TRUE(sink.quiet_until(Deadline::in(std::chrono::milliseconds(300))));
}

TEST(ExternalPeers, NcatDestinationReceivesEveryLineInOrder) {
  uint16_t p = ports_for_test();
  // ncat -l shuts the association down once its stdin reaches EOF: keep stdin open.
  Process ncat({"ncat", "--sctp", "-l", "127.0.0.1", std::to_string(p + 1)}, with_stdin());
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(relay.saw("destination out up")) << "the relay did not reach ncat";
  Peer source = Peer::connect(p);

  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) {
    expected.push_back("ncat line " + std::to_string(i) + " " + payload(10 + i * 11, i, 4));
    ASSERT_TRUE(source.send(expected.back() + "\n", 4, 7));
  }
  ASSERT_TRUE(ncat.wait_line("ncat line 29 ")) << "ncat did not print the last line";
  EXPECT_EQ(ncat.lines(), expected);
}

TEST(ExternalPeers, NcatSourceEachWriteArrivesAsOneMessage) {
  uint16_t p = ports_for_test();
  Peer sink = Peer::listen(p + 1);
  Daemon relay(with_ports(kOneWay, p));
  ASSERT_TRUE(sink.wait_up());
  ASSERT_TRUE(relay.saw("destination out up"));

  std::size_t from = relay.mark();
  Process ncat({"ncat", "--sctp", "127.0.0.1", std::to_string(p)}, with_stdin());
  expect_listener_up(relay, from);
  for (int i = 0; i < 10; ++i) {
    std::string text = "ncat message " + std::to_string(i) + " " + payload(50 + i * 13, i) + "\n";
    ASSERT_TRUE(ncat.write_stdin(text));
    auto m = sink.recv();
    ASSERT_TRUE(m) << "message " << i << " did not arrive";
    EXPECT_TRUE(m->text() == text) << "message " << i << " differs: " << m->text();
  }
  ncat.close_stdin();
  EXPECT_EQ(ncat.wait_exit(), 0);
  EXPECT_TRUE(relay.saw("association down: listener in", soon(), from));
}
