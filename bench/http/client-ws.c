/*
 * WebSocket echo load client: opens C connections to ws://host:port/path, and on each one sends a
 * 64-byte (or S-byte, S <= 125) masked text frame and waits for the server's unmasked echo frame,
 * byte for byte, before sending the next: strict request/response, C messages in flight. After a
 * warm-up of W seconds it counts echoes for D seconds and prints
 *   {"messages": N, "seconds": T, "perSecond": R}
 * One epoll thread, so the client costs much less CPU per message than the servers it measures.
 *
 *   client-ws <host> <port> <path> <connections> <seconds> [message bytes=64] [warm-up seconds=0.5]
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

struct peer {
  int fd;
  size_t got; /* bytes of the current echo frame read so far */
};

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
  fprintf(stderr, "client-ws: %s: %s\n", what, errno ? strerror(errno) : "protocol");
  exit(1);
}

/* Blocking write of the whole buffer (used for the handshake and, non-blocking, for frames). */
static void write_all(int fd, const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue; /* frames are tiny: spin rather than buffer */
      fail("write");
    }
    data += n;
    len -= (size_t)n;
  }
}

/* Sends the opening handshake and reads the response head; fails unless it is 101. */
static void handshake(int fd, const char *host, int port, const char *path) {
  char req[512];
  int len = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, host, port);
  write_all(fd, req, (size_t)len);
  char head[2048];
  size_t have = 0;
  /* one byte at a time so no frame byte after the head is consumed here */
  while (have < sizeof head - 1) {
    ssize_t n = read(fd, head + have, 1);
    if (n <= 0) fail("handshake read");
    have++;
    if (have >= 4 && memcmp(head + have - 4, "\r\n\r\n", 4) == 0) break;
  }
  head[have] = 0;
  if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
    fprintf(stderr, "client-ws: handshake refused: %.60s\n", head);
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: client-ws <host> <port> <path> <connections> <seconds> [message bytes] [warm-up seconds]\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  const char *path = argv[3];
  int npeers = atoi(argv[4]);
  double duration = atof(argv[5]);
  size_t size = argc > 6 ? (size_t)atol(argv[6]) : 64;
  double warmup = argc > 7 ? atof(argv[7]) : 0.5;
  if (npeers < 1 || size < 1 || size > 125 || duration <= 0) {
    fprintf(stderr, "client-ws: connections and seconds must be positive, message bytes 1..125\n");
    return 2;
  }
  /* the frame we send: FIN+text, MASK bit + length, a masking key, the masked payload */
  const unsigned char key[4] = {0x12, 0x34, 0x56, 0x78};
  char payload[125], frame[2 + 4 + 125], expect[2 + 125], buf[2 + 125];
  for (size_t i = 0; i < size; i++) payload[i] = (char)('a' + i % 26);
  frame[0] = (char)0x81;
  frame[1] = (char)(0x80 | size);
  memcpy(frame + 2, key, 4);
  for (size_t i = 0; i < size; i++) frame[6 + i] = (char)(payload[i] ^ key[i % 4]);
  size_t frame_len = 6 + size;
  expect[0] = (char)0x81;
  expect[1] = (char)size;
  memcpy(expect + 2, payload, size);
  size_t expect_len = 2 + size;

  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "client-ws: host must be an IPv4 address, got %s\n", host);
    return 2;
  }
  int ep = epoll_create1(0);
  if (ep < 0) fail("epoll_create1");
  struct peer *peers = calloc((size_t)npeers, sizeof *peers);
  for (int i = 0; i < npeers; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) fail("socket");
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) fail("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    handshake(fd, host, port, path);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    peers[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &peers[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) fail("epoll_ctl");
    write_all(fd, frame, frame_len);
  }
  struct epoll_event events[64];
  double measure_from = seconds_now() + warmup;
  double end = measure_from + duration;
  long long counted = 0;
  while (seconds_now() < end) {
    int n = epoll_wait(ep, events, 64, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct peer *p = events[i].data.ptr;
      for (;;) {
        ssize_t r = read(p->fd, buf, expect_len - p->got);
        if (r == 0) {
          errno = 0;
          fail("the server closed a connection");
        }
        if (r < 0) {
          if (errno == EAGAIN) break;
          fail("read");
        }
        if (memcmp(buf, expect + p->got, (size_t)r) != 0) {
          errno = 0;
          fail("the echo frame differs from what was sent");
        }
        p->got += (size_t)r;
        if (p->got == expect_len) {
          if (seconds_now() >= measure_from) counted++;
          p->got = 0;
          write_all(p->fd, frame, frame_len);
        }
      }
    }
  }
  double elapsed = seconds_now() - measure_from;
  printf("{\"messages\": %lld, \"seconds\": %.3f, \"perSecond\": %.1f}\n", counted, elapsed, counted / elapsed);
  for (int i = 0; i < npeers; i++) close(peers[i].fd);
  return 0;
}
