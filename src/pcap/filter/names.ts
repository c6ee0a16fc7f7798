/**
 * Names a filter may use for numbers: IP protocols, ethertypes, tcpdump's header-field and flag
 * constants, and service names for ports (from /etc/services, as libpcap's getservbyname).
 */
import { readFileSync } from 'node:fs';

export const PROTO_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, icmp6: 58, sctp: 132, ah: 51, esp: 50, pim: 103, vrrp: 112 };

/** `ether proto \ip` and friends. */
export const ETHER_PROTO_NAMES: Readonly<Record<string, number>> = { ip: 0x0800, ip6: 0x86dd, arp: 0x0806, rarp: 0x8035 };

export const CONSTANTS: Readonly<Record<string, number>> = {
  tcpflags: 13,
  'tcp-fin': 0x01,
  'tcp-syn': 0x02,
  'tcp-rst': 0x04,
  'tcp-push': 0x08,
  'tcp-ack': 0x10,
  'tcp-urg': 0x20,
  'tcp-ece': 0x40,
  'tcp-cwr': 0x80,
  icmptype: 0,
  icmpcode: 1,
  'icmp-echoreply': 0,
  'icmp-unreach': 3,
  'icmp-sourcequench': 4,
  'icmp-redirect': 5,
  'icmp-echo': 8,
  'icmp-routeradvert': 9,
  'icmp-routersolicit': 10,
  'icmp-timxceed': 11,
  'icmp-paramprob': 12,
  'icmp-tstamp': 13,
  'icmp-tstampreply': 14,
  'icmp-ireq': 15,
  'icmp-ireqreply': 16,
  'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0,
  icmp6code: 1,
  'icmp6-destinationunreach': 1,
  'icmp6-packettoobig': 2,
  'icmp6-timeexceeded': 3,
  'icmp6-parameterproblem': 4,
  'icmp6-echo': 128,
  'icmp6-echoreply': 129,
  'icmp6-neighborsolicit': 135,
  'icmp6-neighboradvert': 136,
};

/** Used when /etc/services is missing (minimal containers): the services people filter on most. */
const FALLBACK_SERVICES: Readonly<Record<string, number>> = {
  ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, http: 80, www: 80, pop3: 110, ntp: 123, imap: 143, snmp: 161, bgp: 179, https: 443, imaps: 993, pop3s: 995,
};

type ServiceTable = Map<string, { tcp?: number; udp?: number; sctp?: number }>;
let services: ServiceTable | undefined;
/** 'port/proto' to the first name /etc/services gives it (getservbyport's answer). */
let serviceNames: Map<string, string> | undefined;

function loadServices(): ServiceTable {
  const table: ServiceTable = new Map();
  serviceNames = new Map();
  let text = '';
  try {
    text = readFileSync('/etc/services', 'latin1');
  } catch {
    for (const [name, port] of Object.entries(FALLBACK_SERVICES)) {
      table.set(name, { tcp: port, udp: port });
      for (const proto of ['tcp', 'udp']) if (!serviceNames.has(`${port}/${proto}`)) serviceNames.set(`${port}/${proto}`, name);
    }
    return table;
  }
  for (const line of text.split('\n')) {
    const words = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = /^(\d+)\/(tcp|udp|sctp)$/.exec(words[1] ?? '');
    if (!m) continue;
    const port = Number(m[1]);
    const proto = m[2] as 'tcp' | 'udp' | 'sctp';
    if (!serviceNames!.has(words[1]!)) serviceNames!.set(words[1]!, words[0]!);
    for (const name of [words[0]!, ...words.slice(2)]) {
      let entry = table.get(name);
      if (!entry) table.set(name, (entry = {}));
      entry[proto] ??= port;
    }
  }
  return table;
}

/** The port a service name stands for under `proto` (tcp, udp, sctp, or any), or undefined. */
export function servicePort(name: string, proto: string | undefined): number | undefined {
  services ??= loadServices();
  const entry = services.get(name);
  if (!entry) return undefined;
  if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') return entry[proto];
  return entry.tcp ?? entry.udp ?? entry.sctp;
}

/** The service name of `port` under `proto` (as nmap's SERVICE column and getservbyport), or undefined. */
export function serviceName(port: number, proto: 'tcp' | 'udp' | 'sctp'): string | undefined {
  services ??= loadServices();
  return serviceNames!.get(`${port}/${proto}`);
}
