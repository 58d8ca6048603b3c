/*
 * rusage: run a command and report the CPU it and its waited-for descendants used.
 *
 *   rusage <fd|file> <program> [args...]
 *
 * Runs the program, waits for it with wait4(), then writes one line to file descriptor <fd> (when
 * the argument is a number) or to <file> (created or truncated):
 *   {"userSec":U,"sysSec":S,"maxRssKb":K,"status":N}
 * and exits with the program's exit status (128+signal if it was killed). The harness wraps every
 * peer with it because Node cannot read a child's rusage; peer scripts can wrap their load
 * clients with it to record the client's CPU (so a client-bound figure is visible).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child = -1;

/* Forward termination to the child so that killing the wrapper kills the peer. */
static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: rusage <fd|file> <program> [args...]\n");
    return 2;
  }
  const char *target = argv[1];
  int numeric = target[0] != '\0' && strspn(target, "0123456789") == strlen(target);
  int fd = numeric ? atoi(target) : -1;
  child = fork();
  if (child < 0) {
    perror("rusage: fork");
    return 2;
  }
  if (child == 0) {
    if (fd > 2) close(fd); /* the result channel belongs to the wrapper, not the program */
    execvp(argv[2], argv + 2);
    fprintf(stderr, "rusage: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  signal(SIGTERM, forward);
  signal(SIGINT, forward);
  signal(SIGHUP, forward);
  int status = 0;
  struct rusage ru;
  while (wait4(child, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      perror("rusage: wait4");
      return 2;
    }
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (!numeric) {
    fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
      perror("rusage: open");
      return code;
    }
  }
  dprintf(fd, "{\"userSec\":%.6f,\"sysSec\":%.6f,\"maxRssKb\":%ld,\"status\":%d}\n",
          ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
          ru.ru_maxrss, code);
  return code;
}
