/*
 * The ceiling of the scan bench: a SYN scan of 127.0.0.1 written in C on the path synack's scan
 * takes, with nothing else in it. One raw socket (IPPROTO_RAW, IP_HDRINCL) sends one prebuilt
 * SYN per port, its destination port and TCP checksum patched in place; one libpcap capture on
 * lo, opened as cap opens it for synack (snap length 65535, promiscuous, immediate mode,
 * non-blocking) with synack's ring (8 MiB) and filter (`inbound`, and the primer for the frame
 * libpcap drops: src/sr/scan.ts), is drained after every 64 probes, as synack drains it between
 * batches; every RST and SYN-ACK to the source port settles its port.
 * So it pays what any libpcap-based scanner pays here (the kernel's SYN and RST, the capture's
 * copy of each answer into the ring and the wakeups), and none of Node's or the addons' costs.
 * bench/scan.ts builds it with the machine's cc (-lpcap) at bench time; never committed as a binary.
 *   scan-floor <first port> <last port> <seconds>
 * Only 127.0.0.1 is probed. Bounded: one probe per port, at most <seconds> (1-30) in all.
 * Prints one JSON line: ports probed, answered (closed and open), the open ones, and the time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "loop-common.h"

#define BATCH 64
#define RING_BYTES (8 * 1024 * 1024)
#define PRIMER_PORT 9

static unsigned char *states; /* per port: 0 unanswered, 1 closed, 2 open */
static long answered, open_count;
static unsigned short sport;
static unsigned int seq;


static unsigned int sum16(const unsigned char *p, size_t n, unsigned int sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += (unsigned int)(p[i] << 8 | p[i + 1]);
  return sum;
}

static unsigned short fold(unsigned int sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (unsigned short)sum;
}

/* lo's link header is Ethernet (14 bytes); only IPv4 TCP to our source port passes the filter. */
static void on_packet(unsigned char *user, const struct pcap_pkthdr *h, const unsigned char *b) {
  (void)user;
  if (h->caplen < 14 + 20 + 20 || b[12] != 0x08 || b[13] != 0x00 || b[14 + 9] != 6) return;
  const unsigned char *tcp = b + 14 + (b[14] & 15) * 4;
  if ((size_t)(tcp - b) + 14 > h->caplen || (tcp[2] << 8 | tcp[3]) != sport) return;
  unsigned int port = (unsigned int)(tcp[0] << 8 | tcp[1]);
  unsigned char flags = tcp[13];
  unsigned int ack = (unsigned int)tcp[8] << 24 | (unsigned int)tcp[9] << 16 | (unsigned int)tcp[10] << 8 | tcp[11];
  unsigned char state = flags & 0x04 ? 1 : (flags & 0x12) == 0x12 && ack == seq + 1 ? 2 : 0;
  if (state && !states[port]) {
    states[port] = state;
    answered++;
    if (state == 2) open_count++;
  }
}

int main(int argc, char **argv) {
  long first = argc == 4 ? atol(argv[1]) : 0, last = argc == 4 ? atol(argv[2]) : 0;
  double seconds = argc == 4 ? atof(argv[3]) : 0;
  if (first < 1 || last > 65535 || first > last || !(seconds >= 1 && seconds <= 30)) {
    fprintf(stderr, "usage: scan-floor <first port 1-65535> <last port> <seconds 1-30>\n");
    return 2;
  }
  states = calloc(65536, 1);
  srand((unsigned int)(time(NULL) ^ getpid()));
  sport = (unsigned short)(32768 + rand() % (60999 - 32768 + 1));
  seq = (unsigned int)rand();

  char err[PCAP_ERRBUF_SIZE], filter[128];
  pcap_t *cap = pcap_create("lo", err);
  if (!cap || pcap_set_snaplen(cap, 65535) || pcap_set_promisc(cap, 1) || pcap_set_buffer_size(cap, RING_BYTES) ||
      pcap_set_timeout(cap, 1000) || pcap_set_immediate_mode(cap, 1) || pcap_activate(cap) < 0 || pcap_setnonblock(cap, 1, err) < 0) {
    fprintf(stderr, "scan-floor: cannot capture on lo: %s\n", cap ? pcap_geterr(cap) : err);
    return 1;
  }
  /* synack's filter for an IPv4 scan from 127.0.0.1 on lo (src/sr/scan.ts). */
  snprintf(filter, sizeof filter, "inbound and ((tcp and dst port %u) or (icmp and dst host 127.0.0.1))", sport);
  struct bpf_program program;
  if (pcap_compile(cap, &program, filter, 1, PCAP_NETMASK_UNKNOWN) < 0 || pcap_setfilter(cap, &program) < 0) {
    fprintf(stderr, "scan-floor: filter: %s\n", pcap_geterr(cap));
    return 1;
  }
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  int one = 1;
  if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one) < 0) {
    perror("scan-floor: raw socket");
    return 1;
  }

  /* The SYN of synack's scan (src/sr/scan-probe.ts): IPv4, TCP with MSS 1460, port 0. */
  unsigned char p[44] = {0x45, 0, 0, 44, 0x12, 0x34, 0, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1};
  unsigned char *t = p + 20;
  t[0] = sport >> 8, t[1] = sport & 0xff;
  t[4] = seq >> 24, t[5] = seq >> 16, t[6] = seq >> 8, t[7] = seq & 0xff;
  t[12] = 6 << 4, t[13] = 0x02, t[14] = 1024 >> 8, t[20] = 2, t[21] = 4, t[22] = 1460 >> 8, t[23] = 1460 & 0xff;
  unsigned short ipsum = (unsigned short)~fold(sum16(p, 20, 0));
  p[10] = ipsum >> 8, p[11] = ipsum & 0xff;
  /* Pseudo-header (addresses, protocol, length) and the header with port 0 and checksum 0. */
  unsigned int base = sum16(p + 12, 8, 6 + 24);
  base = sum16(t, 24, base);
  struct sockaddr_in to = {.sin_family = AF_INET};
  memcpy(&to.sin_addr, p + 16, 4);

  /* synack's primer: a bare ACK from PRIMER_PORT to the source port, sent before the first probe. */
  unsigned char primer[44];
  memcpy(primer, p, sizeof primer);
  unsigned char *pt = primer + 20;
  pt[0] = 0, pt[1] = PRIMER_PORT, pt[2] = sport >> 8, pt[3] = sport & 0xff, pt[13] = 0x10;
  unsigned short psum = (unsigned short)~fold(sum16(pt, 24, sum16(primer + 12, 8, 6 + 24)));
  pt[16] = psum >> 8, pt[17] = psum & 0xff;
  sendto(fd, primer, sizeof primer, 0, (struct sockaddr *)&to, sizeof to);
  while (pcap_dispatch(cap, -1, on_packet, NULL) > 0) {
  }

  double start = now(), deadline = start + seconds;
  long probes = 0;
  for (long port = first; port <= last && now() < deadline;) {
    for (long end = port + BATCH; port < end && port <= last; port++) {
      t[2] = (unsigned char)(port >> 8), t[3] = port & 0xff;
      unsigned short c = (unsigned short)~fold(base + (unsigned int)port);
      t[16] = c >> 8, t[17] = c & 0xff;
      if (sendto(fd, p, sizeof p, 0, (struct sockaddr *)&to, sizeof to) == (ssize_t)sizeof p) probes++;
    }
    while (pcap_dispatch(cap, -1, on_packet, NULL) > 0) {
    }
  }
  /* The stragglers, until every probe is answered or 0.5 s pass in silence. */
  double quiet = now();
  while (answered < probes && now() < deadline && now() - quiet < 0.5) {
    long before = answered;
    while (pcap_dispatch(cap, -1, on_packet, NULL) > 0) {
    }
    if (answered != before) quiet = now();
    else usleep(1000);
  }
  printf("{\"probes\":%ld,\"answered\":%ld,\"open\":%ld,\"ms\":%.1f}\n", probes, answered, open_count, (now() - start) * 1000);
  pcap_close(cap);
  close(fd);
  return 0;
}
