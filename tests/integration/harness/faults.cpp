#include "harness/faults.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "harness/peer.h"

namespace harness {

namespace {

// The source of KillableSource. Arguments: port seq_base first_stream streams ppid size count
// abort_on_close hold_replies. Prints "up" once connected, "unread reply" once (with hold_replies)
// data is waiting that it will never read, and "done" after the last message.
const char* kSourceScript = R"(
import select, socket, struct, sys
IPPROTO_SCTP, SCTP_INITMSG, SCTP_SNDINFO, MSG_NOTIFICATION = 132, 2, 2, 0x8000
port, base, first, streams, ppid, size, count, linger0, hold = (int(a) for a in sys.argv[1:10])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
s.setsockopt(IPPROTO_SCTP, SCTP_INITMSG, struct.pack('=HHHH', 16, 16, 0, 0))
if linger0:
    # On, with a zero timeout: closing the socket (the process dying) ABORTs the association.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.connect(('127.0.0.1', port))
print('up', flush=True)
# harness::payload(): "seq=N stream=S;" then letter (i * 7 + seq) % 26 at byte i.
bodies = [bytes(97 + (i * 7 + k) % 26 for i in range(size)) for k in range(26)]
announced = False
for n in range(count):
    seq, sid = base + n, first + n % streams
    head = ('seq=%d stream=%d;' % (seq, sid)).encode()[:size]
    data = head + bodies[seq % 26][len(head):]
    # struct sctp_sndinfo { u16 snd_sid; u16 snd_flags; u32 snd_ppid; u32 snd_context; s32 snd_assoc_id; }
    info = struct.pack('=HHIIi', sid, 0, socket.htonl(ppid), 0, 0)
    s.sendmsg([data], [(IPPROTO_SCTP, SCTP_SNDINFO, info)])
    if hold and not announced and n % 16 == 0 and select.select([s], [], [], 0)[0]:
        _, _, flags, _ = s.recvmsg(1, 0, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        if not flags & MSG_NOTIFICATION:
            print('unread reply', flush=True)
            announced = True
print('done', flush=True)
)";

std::map<std::string, uint64_t> parse_snmp(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  std::string name;
  uint64_t value;
  while (in >> name >> value) out[name] = value;
  return out;
}

}  // namespace

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

std::map<std::string, uint64_t> sctp_snmp() {
  std::ifstream f("/proc/net/sctp/snmp");
  if (!f) throw std::runtime_error("cannot read /proc/net/sctp/snmp (is the sctp module loaded?)");
  std::ostringstream text;
  text << f.rdbuf();
  return parse_snmp(text.str());
}

std::map<std::string, uint64_t> sctp_snmp(const Netns& ns) { return parse_snmp(ns.exec({"cat", "/proc/net/sctp/snmp"})); }

KillableSource::KillableSource(const Spec& spec) : spec_(spec) {
  if (spec.streams == 0) throw std::invalid_argument("KillableSource needs at least one stream");
  std::vector<std::string> argv{"/usr/bin/python3", "-c", kSourceScript};
  for (uint64_t v : {uint64_t(spec.port), spec.seq_base, uint64_t(spec.first_stream), uint64_t(spec.streams),
                     uint64_t(spec.ppid), uint64_t(spec.size), spec.count, uint64_t(spec.abort_on_close),
                     uint64_t(spec.hold_replies)})
    argv.push_back(std::to_string(v));
  proc_ = std::make_unique<Process>(argv);
  if (!proc_->wait_line("up")) throw std::runtime_error("the python source did not connect to port " + std::to_string(spec.port));
}

std::string KillableSource::message(uint64_t n) const { return payload(spec_.size, spec_.seq_base + n, stream(n)); }

}  // namespace harness
