/* sctp-health-check: does HOST:PORT accept an SCTP association right now?
 *
 * keepalived has no SCTP checker of its own; this is the program its MISC_CHECK runs for each
 * sctprelayd behind an IPVS SCTP virtual service (docs/scale-out.md,
 * tools/keepalived/keepalived.conf.example). It opens one association to the real server (INIT,
 * INIT-ACK, COOKIE-ECHO, COOKIE-ACK) and closes it at once with a graceful SHUTDOWN; it sends no
 * data, so the relay routes nothing and only counts an association that came up and ended.
 *
 * A pass means the relay's listener socket is open and its kernel completes the handshake. The
 * kernel does that even while the daemon's event loop is stuck; the relay's metrics endpoint
 * (keepalived's HTTP_GET on /metrics) is answered by the loop itself, so checking both covers both.
 *
 * It is C and needs only libc (no libsctp: a one-to-one socket and connect() are enough) because
 * keepalived starts it once per real server every delay_loop: under the test VM's emulated CPU a
 * Python interpreter took 4 s to start, this takes a few milliseconds natively.
 *
 * Usage: sctp-health-check [--timeout SECONDS] [--bind ADDRESS] HOST PORT
 * Exit status: 0 the association came up; 1 it did not, or bad usage. keepalived reads 1 as
 * "down"; it never sees 2-255, which misc_dynamic would take for a weight.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define USAGE "usage: sctp-health-check [--timeout SECONDS] [--bind ADDRESS] HOST PORT"

struct endpoint {
  struct sockaddr_storage addr;
  socklen_t len;
  int family;
};

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("sctp-health-check: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

/* A numeric IPv4 or IPv6 address (IPv6 optionally in brackets) and a port into `ep`. */
static int parse_endpoint(const char *text, unsigned port, struct endpoint *ep) {
  char host[INET6_ADDRSTRLEN + 2];
  size_t n = strlen(text);
  if (n >= sizeof host) return 0;
  if (n >= 2 && text[0] == '[' && text[n - 1] == ']') {
    memcpy(host, text + 1, n - 2);
    host[n - 2] = '\0';
  } else {
    memcpy(host, text, n + 1);
  }
  memset(ep, 0, sizeof *ep);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ep->addr;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ep->addr;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((unsigned short)port);
    ep->len = sizeof *v4;
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((unsigned short)port);
    ep->len = sizeof *v6;
  } else {
    return 0;
  }
  ep->family = ep->addr.ss_family;
  return 1;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double timeout_s = 1.0;
  const char *bind_text = NULL, *positional[2];
  int npos = 0;
  for (int i = 1; i < argc; ++i) {
    const char *arg = argv[i];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
      puts(USAGE);
      return 0;
    }
    if (strcmp(arg, "--timeout") == 0 || strcmp(arg, "--bind") == 0) {
      if (i + 1 >= argc) fail("%s needs a value\n" USAGE, arg);
      const char *value = argv[++i];
      if (strcmp(arg, "--bind") == 0) {
        bind_text = value;
        continue;
      }
      char *end;
      errno = 0;
      timeout_s = strtod(value, &end);
      if (errno || end == value || *end || !(timeout_s > 0 && timeout_s <= 3600))
        fail("--timeout: bad value '%s': seconds, above 0, at most 3600", value);
    } else if (arg[0] == '-' && arg[1] != '\0') {
      fail("unknown option '%s'\n" USAGE, arg);
    } else if (npos < 2) {
      positional[npos++] = arg;
    } else {
      fail("too many arguments\n" USAGE);
    }
  }
  if (npos != 2) fail("need HOST and PORT\n" USAGE);

  char *end;
  unsigned long port = strtoul(positional[1], &end, 10);
  if (*positional[1] == '\0' || *end || port == 0 || port > 65535)
    fail("bad port '%s': 1-65535", positional[1]);
  struct endpoint peer, local;
  if (!parse_endpoint(positional[0], (unsigned)port, &peer))
    fail("bad address '%s': a numeric IPv4 or IPv6 address", positional[0]);
  if (bind_text && !parse_endpoint(bind_text, 0, &local))
    fail("--bind: bad address '%s': a numeric IPv4 or IPv6 address", bind_text);
  if (bind_text && local.family != peer.family)
    fail("--bind %s and %s are not of the same address family", bind_text, positional[0]);
  const char *where = positional[0];

  int fd = socket(peer.family, SOCK_STREAM, IPPROTO_SCTP);
  if (fd < 0) {
    if (errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT || errno == EAFNOSUPPORT)
      fail("cannot open an SCTP socket: %s: the kernel has no SCTP (modprobe sctp)", strerror(errno));
    fail("cannot open an SCTP socket: %s", strerror(errno));
  }
  if (bind_text && bind(fd, (struct sockaddr *)&local.addr, local.len) != 0)
    fail("cannot bind %s: %s", bind_text, strerror(errno));
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
    fail("fcntl: %s", strerror(errno));

  const double start = now_s();
  int err = 0;
  if (connect(fd, (struct sockaddr *)&peer.addr, peer.len) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
    } else {
      /* Up (writable) or failed (error) once the handshake ends; INITs are retried meanwhile. */
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int ready;
      for (;;) {
        int left_ms = (int)((start + timeout_s - now_s()) * 1000.0);
        ready = poll(&p, 1, left_ms > 0 ? left_ms : 0);
        if (ready >= 0 || errno != EINTR) break;
      }
      if (ready < 0) fail("poll: %s", strerror(errno));
      if (ready == 0)
        fail("%s port %lu: no association within %g s (host down, unreachable, or SCTP filtered)",
             where, port, timeout_s);
      socklen_t len = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
  }
  if (err == ECONNREFUSED)
    fail("%s port %lu: refused: nothing accepts SCTP associations there (INIT answered with ABORT)",
         where, port);
  if (err) fail("%s port %lu: %s", where, port, strerror(err));
  const double took_ms = (now_s() - start) * 1000.0;
  /* The default linger: close() starts the graceful SHUTDOWN and the kernel finishes it. */
  close(fd);
  printf("sctp-health-check: %s port %lu: association up in %.1f ms\n", where, port, took_ms);
  return 0;
}
