/*
 * TCP echo load client: opens C connections to host:port; on each one it sends an S-byte message
 * and waits until the same S bytes have come back, comparing every byte, before sending the next:
 * strict request/response, C requests in flight. After a warm-up of W seconds it counts completed
 * requests for D seconds, records each one's latency, and prints
 *   {"requests": N, "seconds": T, "perSecond": R, "p50Ms": A, "p99Ms": B}
 * One epoll thread, non-blocking sockets, TCP_NODELAY; messages are slices of a fixed pattern at a
 * per-request offset, so verifying costs one memcmp and a stale or misordered echo is caught.
 *
 *   client <host> <port> <connections> <seconds> [message bytes=1024] [warm-up seconds=0.5]
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_PERIOD 251 /* prime, so consecutive offsets give different bytes */
#define BUCKETS 200000     /* latency histogram: 10 us buckets up to 2 s */
#define BUCKET_US 10

struct conn {
  int fd;
  unsigned long seq;   /* requests sent on this connection */
  size_t sent;         /* bytes of the current request written */
  size_t got;          /* bytes of the current echo read */
  double started;      /* when the current request began */
  unsigned char *expect; /* the current request's bytes */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "echo client: %s: %s\n", what, errno ? strerror(errno) : "protocol error");
  exit(1);
}

static unsigned char *pattern;
static size_t msg_size;
static unsigned char *scratch;
static unsigned long *histogram;
static unsigned long counted;
static int counting;

static void start_request(struct conn *c) {
  c->expect = pattern + (c->seq % PATTERN_PERIOD);
  c->seq++;
  c->sent = 0;
  c->got = 0;
  c->started = now();
}

/* Writes as much of the current request as the socket takes; returns 1 when all is written. */
static int pump_write(struct conn *c) {
  while (c->sent < msg_size) {
    ssize_t n = write(c->fd, c->expect + c->sent, msg_size - c->sent);
    if (n < 0) {
      if (errno == EAGAIN) return 0;
      if (errno == EINTR) continue;
      die("write");
    }
    c->sent += (size_t)n;
  }
  return 1;
}

static void finish_request(struct conn *c) {
  if (counting) {
    double us = (now() - c->started) * 1e6;
    size_t bucket = (size_t)(us / BUCKET_US);
    if (bucket >= BUCKETS) bucket = BUCKETS - 1;
    histogram[bucket]++;
    counted++;
  }
}

static double percentile_ms(double p) {
  unsigned long target = (unsigned long)(counted * p);
  unsigned long seen = 0;
  for (size_t i = 0; i < BUCKETS; i++) {
    seen += histogram[i];
    if (seen > target) return (i + 0.5) * BUCKET_US / 1000.0;
  }
  return BUCKETS * BUCKET_US / 1000.0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: client <host> <port> <connections> <seconds> [message bytes] [warm-up seconds]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  int nconn = atoi(argv[3]);
  double seconds = atof(argv[4]);
  msg_size = argc > 5 ? (size_t)atol(argv[5]) : 1024;
  double warmup = argc > 6 ? atof(argv[6]) : 0.5;
  if (nconn <= 0 || seconds <= 0 || msg_size == 0) die("bad arguments");

  pattern = malloc(msg_size + PATTERN_PERIOD);
  scratch = malloc(msg_size);
  histogram = calloc(BUCKETS, sizeof *histogram);
  struct conn *conns = calloc((size_t)nconn, sizeof *conns);
  if (!pattern || !scratch || !histogram || !conns) die("malloc");
  for (size_t i = 0; i < msg_size + PATTERN_PERIOD; i++) pattern[i] = (unsigned char)(i % PATTERN_PERIOD);

  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) die("host must be an IPv4 address");

  int ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < nconn; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    start_request(&conns[i]);
    pump_write(&conns[i]);
  }

  double begin = now();
  double count_from = begin + warmup;
  double end = count_from + seconds;
  double counted_since = 0;
  struct epoll_event events[64];
  for (;;) {
    double t = now();
    if (!counting && t >= count_from) {
      counting = 1;
      counted_since = t;
    }
    if (t >= end) break;
    int n = epoll_wait(ep, events, 64, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (c->sent < msg_size) pump_write(c); /* keep reading meanwhile: the echo streams back */
      for (;;) {
        ssize_t r = read(c->fd, scratch, msg_size - c->got);
        if (r < 0) {
          if (errno == EAGAIN) break;
          if (errno == EINTR) continue;
          die("read");
        }
        if (r == 0) die("server closed the connection");
        if (memcmp(scratch, c->expect + c->got, (size_t)r) != 0) {
          errno = 0;
          die("echoed bytes differ from the request");
        }
        c->got += (size_t)r;
        if (c->got == msg_size) {
          finish_request(c);
          start_request(c);
          pump_write(c);
        }
      }
    }
  }
  double elapsed = now() - counted_since;
  printf("{\"requests\": %lu, \"seconds\": %.3f, \"perSecond\": %.1f, \"p50Ms\": %.3f, \"p99Ms\": %.3f}\n", counted, elapsed,
         counted / elapsed, percentile_ms(0.50), percentile_ms(0.99));
  return 0;
}
