/*
 * The ceiling of the send-rate bench: one process sending one prebuilt IPv4 packet over and
 * over with raw sendto(2), as synack's sender does (IPPROTO_RAW, IP_HDRINCL, SO_MARK), with
 * nothing else in the loop. bench/helpers/send-rate.ts builds it with the machine's cc at bench
 * time (never committed as a binary) and counts, as for every contender, the SYNs that reach
 * the target's TCP.
 *   sendto-loop <packet-hex> <seconds> <count> [batch]
 * With a batch (2-1024), the same packets leave by sendmmsg(2), that many per call: what a
 * batched send would buy over one sendto per packet (raw-socket has none; the bench prints it
 * as the ceiling a sender with batching could approach).
 * The destination is the packet's own; only 127.0.0.0/8 and 198.51.100.0/24 (the bench's
 * namespaces) are accepted. Bounded in count and time; SIGINT/SIGTERM stop it.
 * Prints "sending" when it starts and one JSON line with what it sent when it stops.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "loop-common.h"


int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: sendto-loop <packet-hex> <seconds 0-30> <count> [batch 2-1024]\n");
    return 2;
  }
  long batch = argc == 5 ? atol(argv[4]) : 1;
  if (batch < 1 || batch > 1024) {
    fprintf(stderr, "sendto-loop: batch must be 1-1024\n");
    return 2;
  }
  size_t hexlen = strlen(argv[1]);
  double seconds = atof(argv[2]);
  long count = atol(argv[3]);
  if (hexlen < 40 || hexlen % 2 || hexlen > 3000 || !(seconds > 0 && seconds <= 30) || count < 1 || count > 50000000) {
    fprintf(stderr, "sendto-loop: bad arguments (an IPv4 packet in hex, seconds 0-30, count 1-50000000)\n");
    return 2;
  }
  unsigned char packet[1500];
  size_t length = hexlen / 2;
  if (read_hex("sendto-loop", "packet", argv[1], packet, length)) return 2;
  struct sockaddr_in to = {.sin_family = AF_INET};
  memcpy(&to.sin_addr, packet + 16, 4);
  unsigned char *d = packet + 16;
  if ((packet[0] >> 4) != 4 || !allowed_destination(d)) {
    fprintf(stderr, "sendto-loop: sends only IPv4 to 127.0.0.0/8 or 198.51.100.0/24\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  int one = 1, mark = 0x5a5a; /* any mark: the bench runs no guard */
  if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0 || setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0) {
    perror("sendto-loop: raw socket");
    return 1;
  }
  stop_on_signals();
  printf("sending\n");
  fflush(stdout);
  double start = now(), deadline = start + seconds;
  long sent = 0, failed = 0;
  static struct mmsghdr msgs[1024];
  static struct iovec iov = {0};
  iov.iov_base = packet;
  iov.iov_len = length;
  for (long i = 0; i < batch; i++) {
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = sizeof to;
    msgs[i].msg_hdr.msg_iov = &iov;
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  while (!stop && sent < count) {
    if (batch == 1) {
      if (sendto(fd, packet, length, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)length) sent++;
      else failed++;
      if (((sent + failed) & 1023) == 0 && now() > deadline) break;
    } else {
      long n = count - sent < batch ? count - sent : batch;
      int done = sendmmsg(fd, msgs, (unsigned int)n, 0);
      if (done > 0) sent += done;
      else failed++;
      if (now() > deadline) break;
    }
  }
  printf("{\"sent\":%ld,\"failed\":%ld,\"ms\":%.1f}\n", sent, failed, (now() - start) * 1000);
  close(fd);
  return 0;
}
