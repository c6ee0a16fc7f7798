/*
 * The ceiling of send()'s injected way with the handle it has: one process writing one prebuilt
 * Ethernet frame over and over with pcap_sendpacket on a libpcap capture handle opened as cap
 * (the addon synack injects through) opens it: snap length 65535, promiscuous, a 1 MiB buffer,
 * immediate mode, non-blocking, filter 'less 1' (synack's injector takes no packets back), and
 * its descriptor in an epoll set for reading, as libuv polls cap's. Beside
 * bench/helpers/packet-loop.c (the bare AF_PACKET send) it shows what such a handle costs per
 * frame: the kernel hands it every frame that arrives (each RST back) to be filtered out, and
 * every frame sent wakes the epoll entry on its socket's wait queue when its buffer is freed.
 * Built at bench time with cc and -lpcap (bench/helpers/c-loop.ts); never committed as a binary.
 *   pcap-loop <frame-hex> <seconds> <count> <iface>
 * Only IPv4 frames to 127.0.0.0/8 or 198.51.100.0/24 (the bench's namespaces). Bounded in count
 * and time; SIGINT/SIGTERM stop it. Prints "sending" when it starts and one JSON line with what
 * it sent when it stops.
 */
#define _GNU_SOURCE
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "loop-common.h"


int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: pcap-loop <frame-hex> <seconds 0-30> <count> <iface>\n");
    return 2;
  }
  size_t hexlen = strlen(argv[1]);
  double seconds = atof(argv[2]);
  long count = atol(argv[3]);
  if (hexlen < 68 || hexlen % 2 || hexlen > 3028 || !(seconds > 0 && seconds <= 30) || count < 1 || count > 50000000) {
    fprintf(stderr, "pcap-loop: bad arguments (an Ethernet frame of IPv4 in hex, seconds 0-30, count 1-50000000, an interface)\n");
    return 2;
  }
  unsigned char frame[1514];
  size_t length = hexlen / 2;
  if (read_hex("pcap-loop", "frame", argv[1], frame, length)) return 2;
  unsigned char *ip = frame + 14, *d = ip + 16;
  if (frame[12] != 0x08 || frame[13] != 0x00 || (ip[0] >> 4) != 4 || !allowed_destination(d)) {
    fprintf(stderr, "pcap-loop: sends only Ethernet frames of IPv4 to 127.0.0.0/8 or 198.51.100.0/24\n");
    return 2;
  }
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_create(argv[4], errbuf);
  struct bpf_program filter;
  if (!p || pcap_set_snaplen(p, 65535) || pcap_set_promisc(p, 1) || pcap_set_buffer_size(p, 1 << 20) || pcap_set_timeout(p, 1000) ||
      pcap_set_immediate_mode(p, 1) || pcap_activate(p) < 0 || pcap_setnonblock(p, 1, errbuf) < 0 ||
      pcap_compile(p, &filter, "less 1", 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(p, &filter) < 0) {
    fprintf(stderr, "pcap-loop: %s\n", p ? pcap_geterr(p) : errbuf);
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event want = {.events = EPOLLIN};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pcap_get_selectable_fd(p), &want) < 0) {
    perror("pcap-loop: epoll");
    return 1;
  }
  stop_on_signals();
  printf("sending\n");
  fflush(stdout);
  double start = now(), deadline = start + seconds;
  long sent = 0, failed = 0;
  while (!stop && sent < count) {
    if (pcap_sendpacket(p, frame, (int)length) == 0) sent++;
    else failed++;
    if (((sent + failed) & 1023) == 0 && now() > deadline) break;
  }
  printf("{\"sent\":%ld,\"failed\":%ld,\"ms\":%.1f}\n", sent, failed, (now() - start) * 1000);
  pcap_close(p);
  close(ep);
  return 0;
}
