/**
 * Seeded Scapy expressions for the protocols above IP and UDP that real captures carry: GRE
 * (every flag, IPv4 or IPv6 inside), IGMP v1/v2 and IGMPv3 queries and reports, NTP time
 * messages, BOOTP with DHCP options. Every field that Scapy would take from the machine or the
 * clock (source addresses toward multicast, NTP's orig and sent) is given, so the same text
 * means the same bytes to Scapy and to synack. Uses the Rng of random-specs.ts.
 */
import { pyBytes, Rng } from './random-specs.js';

export interface ProtoSpec {
  expr: string;
  /** The Scapy classes used, for coverage. */
  kinds: string[];
}

export const PROTO_LAYERS = ['GRE', 'IGMP', 'IGMPv3', 'IGMPv3mq', 'IGMPv3mr', 'IGMPv3mra', 'NTPHeader', 'NTP', 'BOOTP', 'DHCP'] as const;

const q = (s: string): string => `'${s}'`;

function ipv4(r: Rng): string {
  return `198.51.100.${r.int(1, 254)}`;
}

function group(r: Rng): string {
  return `239.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`;
}

function greSpec(r: Rng, kinds: Set<string>): string {
  kinds.add('GRE');
  const args: string[] = [];
  for (const flag of ['chksum_present', 'routing_present', 'key_present', 'seqnum_present']) if (r.chance(0.4)) args.push(`${flag}=1`);
  if (args.includes('key_present=1') && r.chance(0.8)) args.push(`key=${r.u32()}`);
  if (args.includes('seqnum_present=1') && r.chance(0.8)) args.push(`sequence_number=${r.u32()}`);
  if (r.chance(0.1)) args.push(`recursion_control=${r.int(0, 7)}`);
  if (r.chance(0.1)) args.push(`flags=${r.int(0, 31)}`);
  if ((args.includes('chksum_present=1') || args.includes('routing_present=1')) && r.chance(0.2)) args.push(`chksum=${r.int(0, 0xffff)}`);
  const inner = r.pick(['ip', 'ip6', 'raw', 'none']);
  const outer = r.chance(0.7) ? `IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})` : `IPv6(src='2001:db8::${r.int(1, 0xffff).toString(16)}',dst='2001:db8::${r.int(1, 0xffff).toString(16)}')`;
  const gre = `GRE(${args.join(',')})`;
  if (inner === 'ip') return `${outer}/${gre}/IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})/ICMP(id=${r.int(0, 0xffff)},seq=${r.int(0, 99)})`;
  if (inner === 'ip6') return `${outer}/${gre}/IPv6(src='2001:db8:1::1',dst='2001:db8:1::2')/ICMPv6EchoRequest(id=${r.int(0, 0xffff)})`;
  if (inner === 'raw') return `${outer}/GRE(${[...args, `proto=${r.int(0, 0xffff)}`].join(',')})/Raw(load=${pyBytes(r.bytes(r.int(1, 12)))})`;
  return `${outer}/${gre}`;
}

function igmpSpec(r: Rng, kinds: Set<string>): string {
  const ip = `IP(src=${q(ipv4(r))},dst=${q(r.chance(0.5) ? '224.0.0.1' : group(r))}${r.chance(0.3) ? `,ttl=${r.int(1, 255)}` : ''})`;
  const kind = r.pick(['v2', 'v2', 'mq', 'mr', 'mr', 'mra']);
  if (kind === 'v2') {
    kinds.add('IGMP');
    const args = [`type=${r.pick([0x11, 0x12, 0x16, 0x17])}`, `gaddr=${q(group(r))}`];
    if (r.chance(0.6)) args.push(`mrcode=${r.int(0, 255)}`);
    return `${ip}/IGMP(${args.join(',')})`;
  }
  kinds.add('IGMPv3');
  const head = r.chance(0.5) ? `IGMPv3(mrcode=${r.int(0, 255)})` : 'IGMPv3()';
  if (kind === 'mq') {
    kinds.add('IGMPv3mq');
    const sources = Array.from({ length: r.int(0, 3) }, () => q(ipv4(r)));
    const args = [`gaddr=${q(r.chance(0.3) ? '0.0.0.0' : group(r))}`, `s=${r.int(0, 1)}`, `qrv=${r.int(0, 7)}`, `qqic=${r.int(0, 255)}`];
    if (sources.length) args.push(`srcaddrs=[${sources.join(',')}]`);
    return `${ip}/${head}/IGMPv3mq(${args.join(',')})`;
  }
  if (kind === 'mra') {
    kinds.add('IGMPv3mra');
    return `${ip}/IGMPv3(type=0x30)/IGMPv3mra(qryIntvl=${r.int(0, 0xffff)},robust=${r.int(0, 0xffff)})`;
  }
  kinds.add('IGMPv3mr');
  const records = Array.from({ length: r.int(0, 3) }, () => {
    const sources = Array.from({ length: r.int(0, 2) }, () => q(ipv4(r)));
    return `IGMPv3gr(rtype=${r.int(1, 6)},maddr=${q(group(r))}${sources.length ? `,srcaddrs=[${sources.join(',')}]` : ''})`;
  });
  return `${ip}/IGMPv3()/IGMPv3mr(records=[${records.join(',')}])`;
}

function ntpSpec(r: Rng, kinds: Set<string>): string {
  const cls = r.chance(0.7) ? 'NTPHeader' : 'NTP';
  kinds.add(cls);
  const stamp = (): number => 3_800_000_000 + r.int(0, 200_000_000);
  const args = [`orig=${r.chance(0.3) ? 0 : stamp()}`, `sent=${stamp()}`];
  if (r.chance(0.5)) args.push(`recv=${stamp()}`, `ref=${stamp()}`);
  if (r.chance(0.5)) args.push(`mode=${r.int(1, 5)}`);
  if (r.chance(0.3)) args.push(`leap=${r.int(0, 3)}`);
  if (r.chance(0.3)) args.push(`version=${r.int(1, 4)}`);
  if (r.chance(0.5)) args.push(`poll=${r.int(0, 17)}`, `precision=${r.int(0, 255)}`);
  if (r.chance(0.4)) args.push(`delay=${r.int(0, 3)}`, `dispersion=${r.int(0, 3)}`);
  const stratum = r.pick([0, 1, 2, 3, 16]);
  if (r.chance(0.6)) args.push(`stratum=${stratum}`);
  if (r.chance(0.6) && stratum < 2 && args.includes(`stratum=${stratum}`)) args.push(`ref_id=${r.pick(["b'GPS'", "b'PPS\\x00'", "b'LOCL'"])}`);
  if (r.chance(0.4) && (stratum >= 2 || !args.includes(`stratum=${stratum}`))) args.push(`id=${q(ipv4(r))}`);
  const sport = r.chance(0.5) ? 123 : r.int(1024, 65535);
  const udp = r.chance(0.2) ? 'UDP()' : `UDP(sport=${sport},dport=${sport === 123 ? r.pick([123, r.int(1024, 65535)]) : 123})`;
  return `IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})/${udp}/${cls}(${args.join(',')})`;
}

const DHCP_OPTIONS: readonly ((r: Rng) => string)[] = [
  (r) => `('message-type',${r.pick(["'discover'", "'offer'", "'request'", "'ack'", "'nak'", "'release'", '3'])})`,
  (r) => `('server_id',${q(ipv4(r))})`,
  (r) => `('requested_addr',${q(ipv4(r))})`,
  (r) => `('lease_time',${r.u32()})`,
  (r) => `('renewal_time',${r.int(0, 100000)})`,
  () => `('subnet_mask','255.255.255.0')`,
  (r) => `('router',${q(ipv4(r))})`,
  (r) => `('name_server',${q(ipv4(r))},${q(ipv4(r))})`,
  (r) => `('param_req_list',[${Array.from({ length: r.int(1, 8) }, () => r.int(1, 254)).join(',')}])`,
  (r) => `('hostname',${q(`host${r.int(0, 99)}`)})`,
  () => `('domain','lab.test')`,
  (r) => `('max_dhcp_size',${r.int(576, 1500)})`,
  (r) => `('client_id',${pyBytes(Buffer.concat([Buffer.from([1]), r.bytes(6)]))})`,
  () => `('vendor_class_id','synack')`,
  (r) => `(${r.pick([224, 250, 251])},${pyBytes(r.bytes(r.int(0, 6)))})`,
  () => `'pad'`,
];

function bootpSpec(r: Rng, kinds: Set<string>): string {
  kinds.add('BOOTP');
  const args = [`xid=${r.u32()}`, `chaddr=${pyBytes(r.bytes(r.pick([6, 6, 16])))}`];
  if (r.chance(0.5)) args.push(`op=${r.int(1, 2)}`);
  if (r.chance(0.3)) args.push(`flags=${r.pick(["'B'", '0', '32768'])}`);
  if (r.chance(0.4)) args.push(`yiaddr=${q(ipv4(r))}`, `siaddr=${q(ipv4(r))}`);
  if (r.chance(0.2)) args.push(`ciaddr=${q(ipv4(r))}`, `giaddr=${q(ipv4(r))}`, `hops=${r.int(0, 5)}`, `secs=${r.int(0, 100)}`);
  if (r.chance(0.2)) args.push(`sname=b'server'`, `file=b'pxelinux.0'`);
  const udp = r.pick(['UDP()', 'UDP(sport=68,dport=67)', 'UDP(sport=67,dport=68)']);
  const ip = `IP(src=${q(ipv4(r))},dst=${q(r.chance(0.5) ? '255.255.255.255' : ipv4(r))})`;
  if (r.chance(0.15)) return `${ip}/${udp}/BOOTP(${[...args, `options=${pyBytes(r.bytes(r.int(0, 8)))}`].join(',')})`;
  kinds.add('DHCP');
  const opts = Array.from({ length: r.int(0, 6) }, () => r.pick(DHCP_OPTIONS)(r));
  if (r.chance(0.8)) opts.push("'end'");
  return `${ip}/${udp}/BOOTP(${args.join(',')})/DHCP(options=[${opts.join(',')}])`;
}

export function protoSpecs(count: number, seed: number): ProtoSpec[] {
  const r = new Rng(seed);
  const specs: ProtoSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kinds = new Set<string>();
    const make = r.pick([greSpec, igmpSpec, ntpSpec, bootpSpec]);
    let expr = make(r, kinds);
    if (r.chance(0.3)) expr = `Ether(src='02:00:00:00:00:01',dst='02:00:00:00:00:02')/${expr}`;
    specs.push({ expr, kinds: [...kinds] });
  }
  return specs;
}
