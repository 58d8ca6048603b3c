/*
 * Echo load client for the connection-scaling cases: opens C connections to host:port, and on
 * each one repeatedly writes a message of S bytes and waits until the same S bytes came back
 * (every byte verified) before writing the next: strict request/response, C requests in flight.
 * After a warm-up of W seconds it counts completed round trips for D seconds and prints
 *   {"roundTrips": N, "seconds": T, "perSecond": R}
 * One epoll thread, so the client costs far less CPU per message than any server it measures.
 *
 *   client-conns <host> <port> <connections> <seconds> [message bytes=64] [warm-up seconds=0.5]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
  int fd;
  size_t sent;     /* bytes of the current message written so far */
  size_t received; /* bytes of its echo read so far */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "client-conns: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Writes what is left of the message; returns 0 on success or EAGAIN, -1 on error. */
static int pump_write(struct conn *c, const char *msg, size_t size) {
  while (c->sent < size) {
    ssize_t n = write(c->fd, msg + c->sent, size - c->sent);
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    c->sent += (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: client-conns <host> <port> <connections> <seconds> [message bytes] [warm-up seconds]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  int nconns = atoi(argv[3]);
  double seconds = atof(argv[4]);
  size_t size = argc > 5 ? (size_t)atol(argv[5]) : 64;
  double warmup = argc > 6 ? atof(argv[6]) : 0.5;
  if (nconns < 1 || size < 1 || seconds <= 0) {
    fprintf(stderr, "client-conns: connections, seconds and message bytes must be positive\n");
    return 2;
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nconns + 64) {
    rl.rlim_cur = rl.rlim_max < (rlim_t)nconns + 64 ? rl.rlim_max : (rlim_t)nconns + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  char *msg = malloc(size);
  char *buf = malloc(size);
  for (size_t i = 0; i < size; i++) msg[i] = (char)('a' + i % 26);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "client-conns: host must be an IPv4 address, got %s\n", host);
    return 2;
  }
  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    /* blocking connect keeps the setup simple; the server's accept backlog absorbs the burst */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    if (pump_write(&conns[i], msg, size) < 0) die("write");
  }
  int maxev = nconns < 1024 ? nconns : 1024;
  struct epoll_event *events = calloc((size_t)maxev, sizeof *events);
  double start = now();
  double measure_from = start + warmup;
  double end = measure_from + seconds;
  long long counted = 0;
  for (;;) {
    double t = now();
    if (t >= end) break;
    int n = epoll_wait(ep, events, maxev, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      for (;;) {
        ssize_t r = read(c->fd, buf, size - c->received);
        if (r == 0) {
          fprintf(stderr, "client-conns: server closed a connection\n");
          return 1;
        }
        if (r < 0) {
          if (errno == EAGAIN) break;
          die("read");
        }
        if (memcmp(buf, msg + c->received, (size_t)r) != 0) {
          fprintf(stderr, "client-conns: echo differs from what was sent\n");
          return 1;
        }
        c->received += (size_t)r;
        if (c->received == size) {
          if (now() >= measure_from) counted++;
          c->received = 0;
          c->sent = 0;
          if (pump_write(c, msg, size) < 0) die("write");
        }
      }
    }
  }
  double elapsed = now() - measure_from;
  printf("{\"roundTrips\": %lld, \"seconds\": %.3f, \"perSecond\": %.1f}\n", counted, elapsed, counted / elapsed);
  for (int i = 0; i < nconns; i++) close(conns[i].fd);
  return 0;
}
