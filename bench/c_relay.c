/* c_relay: the smallest SCTP relay, the ceiling for any relay in the benchmark.
 *
 * Connects one association out to --to HOST:PORT, then accepts one association on
 * 127.0.0.1:--listen, and copies messages both ways, one thread per direction: a blocking
 * sctp_recvmsg, then a blocking sctp_sendmsg of the same bytes with the same stream, PPID and
 * unordered flag. No routing, no queues, no event loop. Same socket options as the project's
 * relay: SCTP_NODELAY, SACK frequency 1, 1 MiB buffers. Exits when the inbound side closes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_BYTES (2u << 20)

static void die(const char *what) {
  fprintf(stderr, "c_relay: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void tune(int fd) {
  int one = 1, bytes = 1 << 20;
  struct sctp_sack_info sack = {.sack_assoc_id = SCTP_FUTURE_ASSOC, .sack_delay = 0, .sack_freq = 1};
  struct sctp_initmsg init = {.sinit_num_ostreams = 16, .sinit_max_instreams = 16};
  struct sctp_event_subscribe ev = {.sctp_data_io_event = 1};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_NODELAY, &one, sizeof one) != 0) die("SCTP_NODELAY");
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_DELAYED_SACK, &sack, sizeof sack) != 0) die("SCTP_DELAYED_SACK");
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) != 0) die("SCTP_INITMSG");
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_EVENTS, &ev, sizeof ev) != 0) die("SCTP_EVENTS");
}

struct pipe_dir {
  int from, to;
};

/* Copies messages from one association to the other until `from` reaches EOF. */
static void *copy(void *arg) {
  struct pipe_dir *d = arg;
  char *buf = malloc(BUF_BYTES);
  if (!buf) die("malloc");
  for (;;) {
    size_t have = 0;
    struct sctp_sndrcvinfo info;
    int flags;
    for (;;) { /* one whole message, joining partial deliveries */
      memset(&info, 0, sizeof info);
      flags = 0;
      int n = sctp_recvmsg(d->from, buf + have, BUF_BYTES - have, NULL, NULL, &info, &flags);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        shutdown(d->to, SHUT_WR);
        free(buf);
        return NULL;
      }
      have += (size_t)n;
      if ((flags & MSG_EOR) || have == BUF_BYTES) break;
    }
    if (flags & MSG_NOTIFICATION) continue;
    while (sctp_sendmsg(d->to, buf, have, NULL, 0, info.sinfo_ppid, info.sinfo_flags & SCTP_UNORDERED,
                        info.sinfo_stream, 0, 0) < 0) {
      if (errno != EINTR) die("sctp_sendmsg");
    }
  }
}

int main(int argc, char **argv) {
  const char *to_host = "127.0.0.1";
  int listen_port = 0, to_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--listen")) listen_port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--to")) {
      static char host[64];
      snprintf(host, sizeof host, "%s", argv[i + 1]);
      char *colon = strrchr(host, ':');
      if (!colon) break;
      *colon = '\0';
      to_host = host;
      to_port = atoi(colon + 1);
    }
  }
  if (listen_port <= 0 || to_port <= 0) {
    fprintf(stderr, "usage: c_relay --listen PORT --to HOST:PORT\n");
    return 2;
  }

  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)to_port)};
  inet_pton(AF_INET, to_host, &to.sin_addr);
  int out = -1;
  for (int attempt = 0; out < 0; ++attempt) { /* the destination may still be starting */
    out = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (out < 0) die("socket");
    tune(out);
    if (connect(out, (struct sockaddr *)&to, sizeof to) == 0) break;
    if (attempt > 500) die("connect");
    close(out);
    out = -1;
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }

  int lfd = socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  tune(lfd);
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)listen_port)};
  inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
  if (bind(lfd, (struct sockaddr *)&local, sizeof local) != 0) die("bind");
  if (listen(lfd, 1) != 0) die("listen");
  printf("listening\n");
  fflush(stdout);
  int in = accept(lfd, NULL, NULL);
  if (in < 0) die("accept");
  close(lfd);

  struct pipe_dir back = {out, in}, forth = {in, out};
  pthread_t replies;
  if (pthread_create(&replies, NULL, copy, &back) != 0) die("pthread_create");
  copy(&forth); /* returns when the source closes */
  close(out);   /* graceful shutdown; the kernel delivers what is still queued */
  close(in);
  return 0;
}
