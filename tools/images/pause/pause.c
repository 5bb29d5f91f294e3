/*
 * keel pause: the process that holds a pod sandbox's namespaces open.
 * It sleeps in pause() forever, exits 0 on SIGTERM or SIGINT, and reaps any
 * child that ends up re-parented to it (it is PID 1 of the pod's PID namespace).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    printf("keel-pause 1\n");
    return 0;
  }
  struct sigaction stop = {0};
  stop.sa_handler = on_stop;
  if (sigaction(SIGTERM, &stop, NULL) < 0 || sigaction(SIGINT, &stop, NULL) < 0) return 1;
  struct sigaction child = {0};
  child.sa_handler = on_child;
  child.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &child, NULL) < 0) return 2;
  if (getpid() != 1) fprintf(stderr, "keel-pause: warning: not running as PID 1\n");
  for (;;) pause();
  return 42;
}
