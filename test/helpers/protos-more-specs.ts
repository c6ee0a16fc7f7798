/**
 * Seeded Scapy expressions for the second round of protocols: GRE carrying Ethernet, PPTP's
 * enhanced GRE with PPP (and HDLC framing) inside, NTP control (mode 6) and private (mode 7)
 * messages, DHCP's relay agent information (option 82) with its sub-options, and the router
 * advertisement's DNSSL, route information, advertisement interval and home agent options.
 * NTPControl always gives count and a response's status_word (Scapy 2.5 writes an unset count
 * a byte early and an unset status_word not at all; see ntp.ts).
 * Uses the Rng of random-specs.ts.
 */
import { pyBytes, Rng } from './random-specs.js';
import type { ProtoSpec } from './protos-specs.js';

export const MORE_LAYERS = [
  'GRE', 'GRE_PPTP', 'PPP', 'HDLC', 'NTPControl', 'NTPPrivate', 'DHCP', 'ICMPv6NDOptDNSSL', 'ICMPv6NDOptRouteInfo', 'ICMPv6NDOptAdvInterval', 'ICMPv6NDOptHAInfo',
] as const;

const q = (s: string): string => `'${s}'`;
const ipv4 = (r: Rng): string => `198.51.100.${r.int(1, 254)}`;
const mac = (r: Rng): string => `02:00:00:00:00:${r.int(0, 255).toString(16).padStart(2, '0')}`;
const outerIP = (r: Rng): string =>
  r.chance(0.75) ? `IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})` : `IPv6(src='2001:db8::${r.int(1, 0xffff).toString(16)}',dst='2001:db8::${r.int(1, 0xffff).toString(16)}')`;

function innerIP(r: Rng): string {
  return r.chance(0.7)
    ? `IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})/ICMP(id=${r.int(0, 0xffff)},seq=${r.int(0, 99)})`
    : `IPv6(src='2001:db8:1::1',dst='2001:db8:1::2')/ICMPv6EchoRequest(id=${r.int(0, 0xffff)})`;
}

function greEtherSpec(r: Rng, kinds: Set<string>): string {
  kinds.add('GRE');
  const args: string[] = [];
  if (r.chance(0.4)) args.push('key_present=1', `key=${r.u32()}`);
  if (r.chance(0.3)) args.push('seqnum_present=1', `sequence_number=${r.u32()}`);
  if (r.chance(0.2)) args.push('chksum_present=1');
  const ether = `Ether(src=${q(mac(r))},dst=${q(mac(r))})`;
  const inner = r.chance(0.8) ? innerIP(r) : `ARP(psrc=${q(ipv4(r))},pdst=${q(ipv4(r))},hwsrc=${q(mac(r))})`;
  return `${outerIP(r)}/GRE(${args.join(',')})/${ether}/${inner}`;
}

function pptpSpec(r: Rng, kinds: Set<string>): string {
  kinds.add('GRE_PPTP');
  const args = [`call_id=${r.int(0, 0xffff)}`];
  const seq = r.chance(0.7);
  if (seq) args.push('seqnum_present=1', `sequence_number=${r.u32()}`);
  if (r.chance(0.5)) args.push('acknum_present=1', `ack_number=${r.u32()}`);
  if (r.chance(0.1)) args.push(`flags=${r.int(0, 15)}`);
  if (r.chance(0.1)) args.push(`payload_len=${r.int(0, 200)}`);
  const gre = `GRE_PPTP(${args.join(',')})`;
  if (!seq && r.chance(0.5)) return `${outerIP(r)}/${gre}`;
  kinds.add('PPP');
  const hdlc = r.chance(0.2) ? (kinds.add('HDLC'), 'HDLC()/') : '';
  const kind = r.pick(['ip', 'ip', 'lcp', 'raw']);
  if (kind === 'ip') return `${outerIP(r)}/${gre}/${hdlc}PPP()/${innerIP(r)}`.replace(/PPP\(\)\/IPv6/, 'PPP(proto=0x57)/IPv6');
  // A control protocol's header without options: Code, Identifier, Length 4 (tcpdump decodes no further here).
  if (kind === 'lcp') {
    const proto = r.pick([0xc021, 0x8021, 0x8057, 0x80fd]);
    return `${outerIP(r)}/${gre}/${hdlc}PPP(proto=${proto})/Raw(load=${pyBytes(Buffer.from([r.int(1, 11), r.int(0, 255), 0, 4]))})`;
  }
  return `${outerIP(r)}/${gre}/${hdlc}PPP(proto=${r.pick([0x0023, 0x1234, 0x4021])})/Raw(load=${pyBytes(r.bytes(r.int(1, 12)))})`;
}

function ntpControlSpec(r: Rng, kinds: Set<string>): string {
  const udp = r.chance(0.3) ? 'UDP()' : `UDP(sport=${r.int(1024, 65535)},dport=123)`;
  const ip = `IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})`;
  if (r.chance(0.5)) {
    kinds.add('NTPControl');
    const response = r.chance(0.4) ? 1 : 0;
    const data = r.chance(0.4) ? r.bytes(r.int(1, 24)) : Buffer.alloc(0);
    const args = [`op_code=${r.int(0, 31)}`, `sequence=${r.int(0, 0xffff)}`, `count=${data.length}`];
    if (response) args.push('response=1', `status_word=${pyBytes(r.bytes(2))}`);
    else if (r.chance(0.4)) args.push(`status=${r.int(0, 0xffff)}`);
    if (r.chance(0.3)) args.push(`err=1`, `more=${r.int(0, 1)}`);
    if (r.chance(0.5)) args.push(`association_id=${r.int(0, 0xffff)}`, `offset=${r.int(0, 500)}`);
    if (data.length) args.push(`data=${pyBytes(data)}`);
    return `${ip}/${udp}/NTPControl(${args.join(',')})`;
  }
  kinds.add('NTPPrivate');
  const args = ['mode=7', `request_code=${r.pick([42, 42, 1, 2, 16])}`, `implementation=${r.pick([0, 2, 3])}`];
  if (r.chance(0.5)) args.push('response=1', `nb_items=${r.int(0, 6)}`, `data_item_size=${r.pick([0, 72, 4])}`);
  if (r.chance(0.3)) args.push(`seq=${r.int(0, 127)}`, `more=${r.int(0, 1)}`);
  if (r.chance(0.2)) args.push(`err=${r.int(0, 7)}`, `version=${r.int(1, 4)}`);
  const tail = r.chance(0.4) ? `/Raw(load=${pyBytes(r.bytes(r.int(1, 40)))})` : '';
  return `${ip}/${udp}/NTPPrivate(${args.join(',')})${tail}`;
}

function relayAgent(r: Rng): Buffer {
  const subs: Buffer[] = [];
  for (let n = r.int(1, 3); n > 0; n--) {
    const sub = r.pick([1, 2, 6, 5, 9]);
    const value = sub === 1 || sub === 6 ? Buffer.from(`eth${r.int(0, 9)}/${r.int(0, 99)}`) : r.bytes(r.int(0, 8));
    subs.push(Buffer.from([sub, value.length]), value);
  }
  return Buffer.concat(subs);
}

function dhcpRelaySpec(r: Rng, kinds: Set<string>): string {
  kinds.add('DHCP');
  const bootp = `BOOTP(xid=${r.u32()},chaddr=${pyBytes(r.bytes(6))},giaddr=${q(ipv4(r))},hops=${r.int(1, 4)}${r.chance(0.5) ? ',op=2' : ''})`;
  const opts = [`('message-type',${r.pick(["'discover'", "'request'", "'offer'", "'ack'"])})`, `('relay_agent_information',${pyBytes(relayAgent(r))})`];
  if (r.chance(0.3)) opts.splice(1, 0, `('hostname','lab${r.int(0, 9)}')`);
  opts.push("'end'");
  return `IP(src=${q(ipv4(r))},dst=${q(ipv4(r))})/UDP(sport=67,dport=67)/${bootp}/DHCP(options=[${opts.join(',')}])`;
}

function label(r: Rng): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz0123456789-';
  return Array.from({ length: r.int(1, 10) }, () => letters[r.int(0, letters.length - 1)]).join('');
}

const ND_OPTIONS: readonly ((r: Rng, kinds: Set<string>) => string)[] = [
  (r, kinds) => {
    kinds.add('ICMPv6NDOptDNSSL');
    const names = Array.from({ length: r.int(0, 3) }, () => `${Array.from({ length: r.int(1, 3) }, () => label(r)).join('.')}.`);
    return `ICMPv6NDOptDNSSL(searchlist=[${names.map(q).join(',')}],lifetime=${r.u32()})`;
  },
  (r, kinds) => {
    kinds.add('ICMPv6NDOptRouteInfo');
    const plen = r.pick([0, 16, 48, 64, 80, 128]);
    const len = r.chance(0.3) ? `,len=${r.int(1, 3)}` : '';
    return `ICMPv6NDOptRouteInfo(prefix='2001:db8:${r.int(0, 0xffff).toString(16)}::',plen=${plen},prf=${r.int(0, 3)},rtlifetime=${r.pick([0, 900, 0xffffffff])}${len})`;
  },
  (r, kinds) => {
    kinds.add('ICMPv6NDOptAdvInterval');
    return `ICMPv6NDOptAdvInterval(advint=${r.u32()})`;
  },
  (r, kinds) => {
    kinds.add('ICMPv6NDOptHAInfo');
    return `ICMPv6NDOptHAInfo(pref=${r.int(0, 0xffff)},lifetime=${r.int(0, 0xffff)})`;
  },
  (r) => `ICMPv6NDOptMTU(mtu=${r.int(1280, 9000)})`,
];

function raSpec(r: Rng, kinds: Set<string>): string {
  const opts = Array.from({ length: r.int(1, 4) }, () => r.pick(ND_OPTIONS)(r, kinds));
  return `IPv6(src='fe80::${r.int(1, 0xffff).toString(16)}',dst='ff02::1')/ICMPv6ND_RA(routerlifetime=${r.int(0, 9000)})/${opts.join('/')}`;
}

export function moreProtoSpecs(count: number, seed: number): ProtoSpec[] {
  const r = new Rng(seed);
  const specs: ProtoSpec[] = [];
  for (let i = 0; i < count; i++) {
    const kinds = new Set<string>();
    let expr = r.pick([greEtherSpec, pptpSpec, pptpSpec, ntpControlSpec, dhcpRelaySpec, raSpec])(r, kinds);
    if (r.chance(0.3)) expr = `Ether(src='02:00:00:00:00:01',dst='02:00:00:00:00:02')/${expr}`;
    specs.push({ expr, kinds: [...kinds] });
  }
  return specs;
}
