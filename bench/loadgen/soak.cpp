// The long-running and fault workloads' tools (bench/soak.py drives them):
//
//   soak        K associations that keep sending, paced to an aggregate rate, for a duration;
//   churn       N associations set up and torn down, P at a time, one message each; half end
//               with SHUTDOWN (close), half with ABORT (SO_LINGER 0) once the peer has
//               acknowledged the message (SENDER_DRY);
//   record-sink a sink that appends a record of every message it reads to a memory-mapped file,
//               so that what a sink killed with -9 had read is known afterwards;
//   kstats      what another process's one-to-many socket has taken in, per association, as its
//               kernel counts it (pidfd_getfd + SCTP_GET_ASSOC_STATS): DATA chunks accepted,
//               whether or not the process has read them; with --kill it kill -9s the process first
//               and takes the counts while its own copy of the socket still holds it open, so they
//               are the counts at the socket's end; --drain takes out and lists the messages
//               waiting unread in its receive queue.
//
// Every message carries the Header of payload.h: source = the association's id, seq per
// (source, stream), so a sink can check order and loss per (association, stream).
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <vector>

#include "args.h"
#include "net.h"
#include "payload.h"

namespace loadgen {
namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

void set_nonblocking(int fd, bool on) {
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK));
}

void pause_ns(uint64_t ns) {
  timespec t{time_t(ns / 1000000000u), long(ns % 1000000000u)};
  nanosleep(&t, nullptr);
}

void subscribe(int fd, bool dry) {
  sctp_event_subscribe ev{};
  ev.sctp_data_io_event = 1;
  ev.sctp_association_event = 1;
  ev.sctp_sender_dry_event = dry ? 1 : 0;
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) != 0) die("SCTP_EVENTS: %s", strerror(errno));
}

// Opens `count` one-to-one associations to `to`, `batch` handshakes in flight; returns the fds
// (blocking mode off: the caller decides).
std::vector<int> connect_many(const sockaddr_in& to, long count, long batch, const SocketTuning& t,
                              uint64_t deadline) {
  int ep = epoll_create1(0);
  std::vector<int> fds(size_t(count), -1);
  std::vector<epoll_event> evs(256);
  long started = 0, done = 0, in_flight = 0;
  while (done < count) {
    while (in_flight < batch && started < count) {
      int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
      if (fd < 0) die("socket %ld: %s", started, strerror(errno));
      tune(fd, t);
      set_nonblocking(fd, true);
      if (connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
        die("connect %ld: %s", started, strerror(errno));
      epoll_event e{};
      e.events = EPOLLOUT;
      e.data.u64 = uint64_t(started);
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
      fds[size_t(started++)] = fd;
      ++in_flight;
    }
    int n = epoll_wait(ep, evs.data(), int(evs.size()), 1000);
    if (now_ns() > deadline) die("timeout: %ld of %ld associations up", done, count);
    for (int i = 0; i < n; ++i) {
      int fd = fds[evs[size_t(i)].data.u64];
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) die("association %llu failed: %s", (unsigned long long)evs[size_t(i)].data.u64, strerror(err));
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      --in_flight;
      ++done;
    }
  }
  close(ep);
  return fds;
}

int assoc_state(int fd) {
  sctp_status st{};
  socklen_t len = sizeof st;
  if (getsockopt(fd, IPPROTO_SCTP, SCTP_STATUS, &st, &len) != 0) return -1;
  return st.sstat_state;
}

}  // namespace

// ---- soak --------------------------------------------------------------------------------------

int run_soak(const Args& a) {
  sockaddr_in to = parse_endpoint(a.required("to"));
  long count = a.num("assocs", 250);
  double rate = a.real("rate", 250);  // messages per second, all associations together
  double duration = a.real("duration", 600);
  long size = a.num("size", 100);
  long streams = a.num("streams", 4);
  uint32_t base = uint32_t(a.num("id-base", 0));
  uint32_t ppid = uint32_t(a.num("ppid", 46));
  double timeout = a.real("timeout", 120);
  if (size < long(kMinSize)) die("--size must be at least %zu", kMinSize);
  raise_nofile(rlim_t(count + 64));
  struct sigaction sa{};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);

  SocketTuning t;
  t.buffer_bytes = 0;  // kernel defaults: many sockets
  uint64_t start = now_ns();
  std::vector<int> fds = connect_many(to, count, 64, t, start + uint64_t(timeout * 1e9));
  uint64_t connected = now_ns();
  std::printf("{\"event\":\"connected\",\"assocs\":%ld,\"connect_s\":%.3f}\n", count,
              double(connected - start) / 1e9);

  // Per association: the next stream to use and the next seq per stream. A message that met a
  // full send buffer (EAGAIN) is tried again, same seq, on that association's next turn.
  std::vector<uint32_t> next_seq(size_t(count * streams), 0);
  std::vector<uint16_t> next_stream(size_t(count), 0);
  std::vector<bool> dead(size_t(count), false);
  std::string buf;
  long sent = 0, eagain = 0, failed = 0, cursor = 0;
  uint64_t end = connected + uint64_t(duration * 1e9), last_progress = connected;
  while (!g_stop) {
    uint64_t now = now_ns();
    if (now >= end) break;
    if (now - last_progress >= 10000000000ull) {
      last_progress = now;
      std::printf("{\"event\":\"progress\",\"sent\":%ld,\"eagain\":%ld,\"failed\":%ld,\"t\":%.1f}\n", sent, eagain,
                  failed, double(now - connected) / 1e9);
    }
    long due = long(rate * double(now - connected) / 1e9);
    if (sent >= due) {
      pause_ns(2000000);
      continue;
    }
    long tries = 0;
    while (sent < due && tries < count) {
      long i = cursor;
      cursor = (cursor + 1) % count;
      ++tries;
      if (dead[size_t(i)]) continue;
      Header h{};
      h.source = base + uint32_t(i);
      h.stream = next_stream[size_t(i)];
      h.seq = next_seq[size_t(i * streams + h.stream)];
      h.size = uint32_t(size);
      h.sent_ns = now_ns();
      write_message(buf, h, true);
      int n = sctp_sendmsg(fds[size_t(i)], buf.data(), size_t(size), nullptr, 0, htonl(ppid), 0, h.stream, 0, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
          ++eagain;
          continue;
        }
        std::printf("{\"event\":\"assoc_failed\",\"source\":%u,\"error\":\"%s\"}\n", h.source, strerror(errno));
        dead[size_t(i)] = true;
        ++failed;
        continue;
      }
      tries = 0;
      ++next_seq[size_t(i * streams + h.stream)];
      next_stream[size_t(i)] = uint16_t((h.stream + 1) % streams);
      ++sent;
    }
    if (sent < due) pause_ns(1000000);  // every association full: let the relay catch up
  }
  uint64_t done = now_ns();
  long not_established = 0;
  for (long i = 0; i < count; ++i)
    if (!dead[size_t(i)] && assoc_state(fds[size_t(i)]) != SCTP_ESTABLISHED) ++not_established;
  for (int fd : fds) {
    set_nonblocking(fd, false);
    close(fd);  // graceful SHUTDOWN; the kernel delivers what is still queued
  }
  std::printf(
      "{\"mode\":\"soak\",\"assocs\":%ld,\"sent\":%ld,\"eagain\":%ld,\"failed\":%ld,\"not_established\":%ld,"
      "\"send_s\":%.3f,\"msgs_per_s\":%.1f,\"id_base\":%u}\n",
      count, sent, eagain, failed, not_established, double(done - connected) / 1e9,
      double(sent) / (double(done - connected) / 1e9), base);
  return failed || not_established ? 4 : 0;
}

// ---- churn -------------------------------------------------------------------------------------

int run_churn(const Args& a) {
  sockaddr_in to = parse_endpoint(a.required("to"));
  long count = a.num("count", 1000);
  long parallel = a.num("parallel", 32);
  long size = a.num("size", 100);
  uint32_t base = uint32_t(a.num("id-base", 0));
  long step = a.num("id-step", 1);  // ids base, base+step, ...: several churners share a sink
  uint32_t ppid = uint32_t(a.num("ppid", 46));
  double timeout = a.real("timeout", 3600);
  double dry_timeout = a.real("dry-timeout", 30);
  if (size < long(kMinSize)) size = kMinSize;
  raise_nofile(rlim_t(parallel * 2 + 64));
  SocketTuning t;
  t.buffer_bytes = 0;

  enum State : uint8_t { kConnecting, kWaitDry };
  struct Slot {
    int fd = -1;
    long index = 0;
    State state = kConnecting;
    uint64_t since = 0;
  };
  std::vector<Slot> slots(static_cast<size_t>(parallel));
  std::deque<size_t> free_slots;
  for (size_t i = 0; i < slots.size(); ++i) free_slots.push_back(i);
  int ep = epoll_create1(0);
  std::vector<epoll_event> evs(256);
  std::string buf, in(4096, '\0');
  long started = 0, finished = 0, graceful = 0, aborted_linger = 0, aborted_flag = 0, refused = 0, dry_late = 0;
  uint64_t start = now_ns(), deadline = start + uint64_t(timeout * 1e9), last_progress = start;

  auto finish = [&](size_t s, bool abort_it) {
    Slot& sl = slots[s];
    epoll_ctl(ep, EPOLL_CTL_DEL, sl.fd, nullptr);
    if (abort_it) {
      // SO_LINGER {1, 0}: close() sends ABORT. (The SCTP_ABORT send flag is refused with EINVAL
      // on a one-to-one socket, and close() would then SHUTDOWN gracefully.)
      linger lg{1, 0};
      if (setsockopt(sl.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0) die("SO_LINGER: %s", strerror(errno));
      ++aborted_linger;
    } else {
      ++graceful;
    }
    close(sl.fd);  // without SO_LINGER 0: graceful SHUTDOWN after the message
    sl.fd = -1;
    ++finished;
    free_slots.push_back(s);
  };

  while (finished < count) {
    while (!free_slots.empty() && started < count) {
      size_t s = free_slots.front();
      free_slots.pop_front();
      Slot& sl = slots[s];
      sl.index = started++;
      sl.fd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
      if (sl.fd < 0) die("socket %ld: %s", sl.index, strerror(errno));
      tune(sl.fd, t);
      subscribe(sl.fd, (sl.index % 2) == 1);
      set_nonblocking(sl.fd, true);
      if (connect(sl.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
        die("connect %ld: %s", sl.index, strerror(errno));
      sl.state = kConnecting;
      sl.since = now_ns();
      epoll_event e{};
      e.events = EPOLLOUT;
      e.data.u64 = s;
      epoll_ctl(ep, EPOLL_CTL_ADD, sl.fd, &e);
    }
    int n = epoll_wait(ep, evs.data(), int(evs.size()), 200);
    uint64_t now = now_ns();
    if (now > deadline) die("timeout: %ld of %ld done", finished, count);
    if (now - last_progress >= 5000000000ull) {
      last_progress = now;
      std::printf("{\"event\":\"progress\",\"done\":%ld,\"t\":%.1f}\n", finished, double(now - start) / 1e9);
    }
    for (int i = 0; i < n; ++i) {
      size_t s = size_t(evs[size_t(i)].data.u64);
      Slot& sl = slots[s];
      if (sl.fd < 0) continue;
      if (sl.state == kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(sl.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) die("association %ld failed: %s", sl.index, strerror(err));
        Header h{};
        h.source = base + uint32_t(sl.index * step);
        h.stream = uint16_t(sl.index % 4);
        h.seq = 0;
        h.size = uint32_t(size);
        h.sent_ns = now;
        write_message(buf, h, true);
        if (sctp_sendmsg(sl.fd, buf.data(), size_t(size), nullptr, 0, htonl(ppid), 0, h.stream, 0, 0) < 0)
          die("send on association %ld: %s", sl.index, strerror(errno));
        if ((sl.index % 2) == 0) {
          finish(s, false);
          continue;
        }
        // ABORT only once the relay's kernel has acknowledged the message (SENDER_DRY): what
        // was acknowledged the relay has to pass on, even though the association is gone.
        sl.state = kWaitDry;
        sl.since = now;
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = s;
        epoll_ctl(ep, EPOLL_CTL_MOD, sl.fd, &e);
        continue;
      }
      // kWaitDry: read notifications until SENDER_DRY.
      for (;;) {
        sctp_sndrcvinfo info{};
        int flags = 0;
        int r = sctp_recvmsg(sl.fd, in.data(), in.size(), nullptr, nullptr, &info, &flags);
        if (r < 0) break;  // EAGAIN: wait for more
        if (r == 0) {
          die("association %ld: closed by the relay before its message was acknowledged", sl.index);
        }
        if (!(flags & MSG_NOTIFICATION)) continue;
        auto* note = reinterpret_cast<sctp_notification*>(in.data());
        if (note->sn_header.sn_type == SCTP_SENDER_DRY_EVENT) {
          // Nothing pending or unacknowledged, the message included (a dry event from before
          // the send would not pass this).
          sctp_status st{};
          socklen_t len = sizeof st;
          if (getsockopt(sl.fd, IPPROTO_SCTP, SCTP_STATUS, &st, &len) == 0 && st.sstat_unackdata == 0 &&
              st.sstat_penddata == 0) {
            finish(s, true);
            break;
          }
        }
      }
    }
    // A SENDER_DRY that never comes would leave a slot stuck: give up waiting after dry_timeout
    // (counted; the message may not have been acknowledged).
    for (size_t s = 0; s < slots.size(); ++s) {
      Slot& sl = slots[s];
      if (sl.fd >= 0 && sl.state == kWaitDry && now - sl.since > uint64_t(dry_timeout * 1e9)) {
        ++dry_late;
        finish(s, true);
      }
    }
  }
  uint64_t done = now_ns();
  double secs = double(done - start) / 1e9;
  std::printf(
      "{\"mode\":\"churn\",\"count\":%ld,\"graceful\":%ld,\"aborted_linger\":%ld,\"aborted_flag\":%ld,"
      "\"dry_timeouts\":%ld,\"refused\":%ld,\"seconds\":%.3f,\"per_s\":%.1f}\n",
      count, graceful, aborted_linger, aborted_flag, dry_late, refused, secs, double(count) / secs);
  return dry_late ? 4 : 0;
}

// ---- record-sink -------------------------------------------------------------------------------

namespace {

// The record file: a header, then one Record per message read, in reading order. `count` is
// stored after the record, so a reader never sees a half-written one.
struct RecordFileHeader {
  uint64_t count;
  uint64_t capacity;
  int32_t listen_fd;
  int32_t pid;
  uint64_t ups;
};
struct Record {
  uint32_t source;
  uint32_t seq;
  uint16_t stream;      // from the header (what the source sent on)
  uint16_t rcv_stream;  // what it arrived on
  uint32_t assoc_id;
};
static_assert(sizeof(Record) == 16);

}  // namespace

int run_record_sink(const Args& a) {
  uint16_t port = uint16_t(a.num("port", 0));
  std::string path = a.required("record");
  long capacity = a.num("capacity", 8 << 20);
  size_t bytes = sizeof(RecordFileHeader) + size_t(capacity) * sizeof(Record);
  int rf = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (rf < 0) die("open %s: %s", path.c_str(), strerror(errno));
  if (ftruncate(rf, off_t(bytes)) != 0) die("ftruncate %s: %s", path.c_str(), strerror(errno));
  void* map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, rf, 0);
  if (map == MAP_FAILED) die("mmap %s: %s", path.c_str(), strerror(errno));
  auto* head = static_cast<volatile RecordFileHeader*>(map);
  auto* recs = reinterpret_cast<Record*>(static_cast<char*>(map) + sizeof(RecordFileHeader));
  head->capacity = uint64_t(capacity);
  head->pid = int32_t(getpid());

  int fd = listen_one_to_many(port, SocketTuning{});
  head->listen_fd = fd;
  std::printf("{\"event\":\"listening\",\"port\":%u,\"fd\":%d,\"pid\":%d}\n", port, fd, int(getpid()));
  std::string buf(1u << 20, '\0');
  uint64_t n = 0;
  for (;;) {  // until killed
    sctp_sndrcvinfo info{};
    int flags = 0;
    size_t have = 0;
    for (;;) {
      int r = sctp_recvmsg(fd, buf.data() + have, buf.size() - have, nullptr, nullptr, &info, &flags);
      if (r < 0) {
        if (errno == EINTR) continue;
        die("recvmsg: %s", strerror(errno));
      }
      have += size_t(r);
      if (flags & MSG_EOR) break;
      if (buf.size() < have + (1u << 16)) buf.resize(have + (1u << 20));
    }
    if (flags & MSG_NOTIFICATION) {
      auto* note = reinterpret_cast<sctp_notification*>(buf.data());
      if (note->sn_header.sn_type == SCTP_ASSOC_CHANGE && note->sn_assoc_change.sac_state == SCTP_COMM_UP)
        head->ups = head->ups + 1;
      continue;
    }
    if (n >= uint64_t(capacity)) die("record file full (%ld records)", capacity);
    Record& r = recs[n];
    if (looks_intact(buf.data(), have)) {
      Header h = read_header(buf.data());
      r.source = h.source;
      r.seq = h.seq;
      r.stream = h.stream;
    } else {
      r.source = 0xffffffffu;  // damaged: counted as such
      r.seq = uint32_t(have);
      r.stream = 0xffff;
    }
    r.rcv_stream = info.sinfo_stream;
    r.assoc_id = uint32_t(info.sinfo_assoc_id);
    __atomic_store_n(&head->count, ++n, __ATOMIC_RELEASE);
  }
}

// ---- kstats ------------------------------------------------------------------------------------

int run_kstats(const Args& a) {
  long pid = a.num("pid", 0);
  long target_fd = a.num("fd", 3);
  int pfd = int(syscall(SYS_pidfd_open, pid_t(pid), 0));
  if (pfd < 0) die("pidfd_open %ld: %s", pid, strerror(errno));
  int fd = int(syscall(438 /* SYS_pidfd_getfd */, pfd, int(target_fd), 0));
  if (fd < 0) die("pidfd_getfd %ld/%ld: %s", pid, target_fd, strerror(errno));
  if (a.flag("kill")) {
    // kill -9 the owner while this copy of its socket keeps the socket open: the process is gone
    // (it reads nothing more), and the counts below are taken the moment before this copy closes
    // — the socket's real end (ABORT if anything is unread) — so nothing arrives in between.
    if (syscall(424 /* SYS_pidfd_send_signal */, pfd, SIGKILL, nullptr, 0) != 0)
      die("pidfd_send_signal: %s", strerror(errno));
    pollfd p{pfd, POLLIN, 0};
    if (poll(&p, 1, 30000) != 1) die("pid %ld did not exit", pid);
  }
  std::vector<char> idbuf(sizeof(sctp_assoc_ids) + 1024 * sizeof(sctp_assoc_t));
  socklen_t len = socklen_t(idbuf.size());
  if (getsockopt(fd, IPPROTO_SCTP, SCTP_GET_ASSOC_ID_LIST, idbuf.data(), &len) != 0)
    die("SCTP_GET_ASSOC_ID_LIST: %s", strerror(errno));
  auto* ids = reinterpret_cast<sctp_assoc_ids*>(idbuf.data());
  std::printf("{\"mode\":\"kstats\",\"assocs\":[");
  for (uint32_t i = 0; i < ids->gaids_number_of_ids; ++i) {
    sctp_assoc_stats st{};
    st.sas_assoc_id = ids->gaids_assoc_id[i];
    socklen_t sl = sizeof st;
    if (getsockopt(fd, IPPROTO_SCTP, SCTP_GET_ASSOC_STATS, &st, &sl) != 0) continue;
    std::printf("%s{\"assoc_id\":%d,\"iodchunks\":%llu,\"iuodchunks\":%llu,\"idupchunks\":%llu}", i ? "," : "",
                int(st.sas_assoc_id), (unsigned long long)st.sas_iodchunks, (unsigned long long)st.sas_iuodchunks,
                (unsigned long long)st.sas_idupchunks);
  }
  std::printf("]");
  if (a.flag("drain")) {
    // What the process had not read: every message waiting in its socket's receive queue, taken
    // out without blocking (the owner is stopped and about to be killed) and listed as
    // [source, stream, seq]. These messages the kernel has delivered to the socket, so the
    // sender was told they arrived: a kill -9 now would lose them whatever the sender does.
    std::string buf(1u << 20, '\0');
    long drained = 0, notes = 0, damaged = 0;
    std::printf(",\"drained\":[");
    for (;;) {
      size_t have = 0;
      int flags = 0;
      bool whole = false;
      for (;;) {
        iovec iov{buf.data() + have, buf.size() - have};
        msghdr m{};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        ssize_t r = recvmsg(fd, &m, MSG_DONTWAIT);
        if (r < 0) break;
        have += size_t(r);
        flags = m.msg_flags;
        if (flags & MSG_EOR) {
          whole = true;
          break;
        }
        if (buf.size() < have + (1u << 16)) buf.resize(have + (1u << 20));
      }
      if (!whole) break;
      if (flags & MSG_NOTIFICATION) {
        ++notes;
        continue;
      }
      if (!looks_intact(buf.data(), have)) {
        ++damaged;
        continue;
      }
      Header h = read_header(buf.data());
      std::printf("%s[%u,%u,%u]", drained ? "," : "", h.source, unsigned(h.stream), h.seq);
      ++drained;
    }
    std::printf("],\"drained_notifications\":%ld,\"drained_damaged\":%ld", notes, damaged);
  }
  std::printf("}\n");
  return 0;
}

}  // namespace loadgen
