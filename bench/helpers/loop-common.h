/*
 * What every C contender of the benches shares: a stop flag set by SIGINT/SIGTERM (so a loop
 * is bounded by a signal as well as by its count and time), a monotonic clock, the packet given
 * in hex on the command line, and the one rule on where a bench may send: 127.0.0.0/8 and
 * 198.51.100.0/24 (the benches' own namespaces), nothing else.
 */
#ifndef SYNACK_LOOP_COMMON_H
#define SYNACK_LOOP_COMMON_H
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static inline void stop_on_signals(void) {
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
}

static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writes hex's length/2 bytes into out; 0 when it is all hex, else 2 (a usage error) after saying so. */
static inline int read_hex(const char *program, const char *what, const char *hex, unsigned char *out, size_t length) {
  for (size_t i = 0; i < length; i++) {
    unsigned int byte;
    if (sscanf(hex + 2 * i, "%2x", &byte) != 1) {
      fprintf(stderr, "%s: the %s is not hex\n", program, what);
      return 2;
    }
    out[i] = (unsigned char)byte;
  }
  return 0;
}

/* d: an IPv4 destination's four bytes. */
static inline int allowed_destination(const unsigned char *d) {
  return d[0] == 127 || (d[0] == 198 && d[1] == 51 && d[2] == 100);
}
#endif
