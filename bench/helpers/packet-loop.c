/*
 * The second ceiling of the send-rate bench on veth: one process writing one prebuilt Ethernet
 * frame over and over on an AF_PACKET socket bound to an interface, as libpcap's
 * pcap_sendpacket does (the way synack's send() takes for a long flood, src/sr/injected-way.ts),
 * with nothing else in the loop. bench/helpers/send-rate.ts builds it with the machine's cc at
 * bench time (bench/helpers/c-loop.ts; never committed as a binary) and counts, as for every
 * contender, the SYNs that reach the target's TCP.
 *   packet-loop <frame-hex> <seconds> <count> <iface>
 * bench/helpers/pcap-loop.c is the same loop through a libpcap capture handle opened and polled
 * as cap's is.
 * Only IPv4 frames to 127.0.0.0/8 or 198.51.100.0/24 (the bench's namespaces). Bounded in count
 * and time; SIGINT/SIGTERM stop it. Prints "sending" when it starts and one JSON line with what
 * it sent when it stops.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "loop-common.h"


int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: packet-loop <frame-hex> <seconds 0-30> <count> <iface>\n");
    return 2;
  }
  size_t hexlen = strlen(argv[1]);
  double seconds = atof(argv[2]);
  long count = atol(argv[3]);
  unsigned int ifindex = if_nametoindex(argv[4]);
  if (hexlen < 68 || hexlen % 2 || hexlen > 3028 || !(seconds > 0 && seconds <= 30) || count < 1 || count > 50000000 || !ifindex) {
    fprintf(stderr, "packet-loop: bad arguments (an Ethernet frame of IPv4 in hex, seconds 0-30, count 1-50000000, an interface)\n");
    return 2;
  }
  unsigned char frame[1514];
  size_t length = hexlen / 2;
  if (read_hex("packet-loop", "frame", argv[1], frame, length)) return 2;
  unsigned char *ip = frame + 14, *d = ip + 16;
  if (frame[12] != 0x08 || frame[13] != 0x00 || (ip[0] >> 4) != 4 || !allowed_destination(d)) {
    fprintf(stderr, "packet-loop: sends only Ethernet frames of IPv4 to 127.0.0.0/8 or 198.51.100.0/24\n");
    return 2;
  }
  /* Protocol 0: the socket only sends, no frame is handed to it. */
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  struct sockaddr_ll at = {.sll_family = AF_PACKET, .sll_ifindex = (int)ifindex};
  if (fd < 0 || bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
    perror("packet-loop: packet socket");
    return 1;
  }
  stop_on_signals();
  printf("sending\n");
  fflush(stdout);
  double start = now(), deadline = start + seconds;
  long sent = 0, failed = 0;
  while (!stop && sent < count) {
    if (send(fd, frame, length, 0) == (ssize_t)length) sent++;
    else failed++;
    if (((sent + failed) & 1023) == 0 && now() > deadline) break;
  }
  printf("{\"sent\":%ld,\"failed\":%ld,\"ms\":%.1f}\n", sent, failed, (now() - start) * 1000);
  close(fd);
  return 0;
}
