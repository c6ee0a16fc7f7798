/**
 * `synack ping HOST`: hping3's TCP mode for people who know it. The same flag letters (-S -F
 * -R -A -P -U), a probe every -i seconds, the source port counting up from a random base so
 * each reply finds its probe (hping3's seq= is that count), reply lines in hping3's format,
 * and its statistics at the end. Unlike hping3 it stops by itself: -c defaults to 4.
 */
import type { Command } from 'commander';
import { IP, IPv6, TCP } from '../packet/factories.js';
import { isIPv6 } from '../wire/addr.js';
import type { Packet } from '../packet/packet.js';
import { TCPLayer } from '../layers/tcp.js';
import type { TCPOption } from '../layers/tcp-options.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { routeTo } from '../io/route.js';
import { sr } from '../sr/sr.js';
import { examples, intOption, out, parseAddress, parsePort, sleep } from './common.js';
import { durationOption } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';
import { checkIface, intervalOption } from './send.js';

interface PingOptions {
  syn?: boolean;
  fin?: boolean;
  rst?: boolean;
  ack?: boolean;
  push?: boolean;
  urg?: boolean;
  port?: string;
  win?: number;
  ttl?: number;
  seq?: number;
  setack?: number;
  ts?: boolean;
  mss?: number;
  badsum?: boolean;
  count?: number;
  interval?: number;
  timeout?: number;
  iface?: string;
  json?: boolean;
}

/** hping3's order for the flags it sets ("FPU set"): the bit order. */
function setFlagsText(bits: number): string {
  const letters = 'FSRPAUXY';
  let s = '';
  for (let i = 0; i < 8; i++) if (bits & (1 << i)) s += letters[i];
  return s ? `${s} set` : 'NO FLAGS are set';
}

/** hping3's order for a reply's flags ("flags=RA", "flags=SA"). */
function replyFlagsText(bits: number): string {
  let s = '';
  if (bits & 0x04) s += 'R';
  if (bits & 0x02) s += 'S';
  if (bits & 0x10) s += 'A';
  if (bits & 0x01) s += 'F';
  if (bits & 0x08) s += 'P';
  if (bits & 0x20) s += 'U';
  if (bits & 0x40) s += 'X';
  if (bits & 0x80) s += 'Y';
  return s;
}

export interface PingReply {
  seq: number;
  len: number;
  ip: string;
  ttl: number;
  df: boolean;
  id: number;
  sport: number;
  flags: string;
  win: number;
  rtt: number;
}

/** The reply line as hping3 prints it. */
export function replyLine(r: PingReply): string {
  return `len=${r.len} ip=${r.ip} ttl=${r.ttl} ${r.df ? 'DF ' : ''}id=${r.id} sport=${r.sport} flags=${r.flags} seq=${r.seq} win=${r.win} rtt=${r.rtt.toFixed(1)} ms`;
}

function describeReply(seq: number, reply: Packet, rttMicros: number): PingReply | undefined {
  const ip = reply.layers.find((l) => l.name === 'IP' || l.name === 'IPv6');
  const tcp = reply.getLayer(TCPLayer);
  if (!ip || !tcp) return undefined;
  const get = (name: string): unknown => ip.get(name as never);
  // IPv6 has no id or DF, and its length field leaves the 40-byte header out.
  const v6 = ip.name === 'IPv6';
  const flags = v6 ? 0 : Number(get('flags'));
  return {
    seq,
    len: v6 ? Number(get('plen')) + 40 : Number(get('len')),
    ip: String(get('src')),
    ttl: Number(get(v6 ? 'hlim' : 'ttl')),
    df: (flags & 2) !== 0,
    id: v6 ? 0 : Number(get('id')),
    sport: tcp.get('sport'),
    flags: replyFlagsText(tcp.flagBits),
    win: tcp.get('window'),
    rtt: rttMicros / 1000,
  };
}

export function registerPing(program: Command): void {
  program
    .command('ping')
    .description('hping3-style TCP probes with hping3-like reply lines and round-trip statistics')
    .argument('<host>', 'the address to probe')
    .option('-S, --syn', 'set SYN')
    .option('-F, --fin', 'set FIN')
    .option('-R, --rst', 'set RST')
    .option('-A, --ack', 'set ACK')
    .option('-P, --push', 'set PUSH')
    .option('-U, --urg', 'set URG')
    .option('-p, --port <port>', 'destination port (default 0, as hping3)')
    .option('--win <n>', 'window (default 64, as hping3)', intOption('win', 0, 65535))
    .option('--ttl <n>', 'IP time to live (default 64)', intOption('ttl', 0, 255))
    .option('--seq <n>', 'TCP sequence number (default random)', intOption('seq', 0, 0xffffffff))
    .option('--setack <n>', 'TCP acknowledgment number (hping3 -L)', intOption('ack', 0, 0xffffffff))
    .option('--ts', 'add the TCP timestamp option')
    .option('--mss <n>', 'add the TCP MSS option with this value', intOption('mss', 0, 65535))
    .option('--badsum', 'send a wrong TCP checksum')
    .option('-c, --count <n>', 'probes to send (default 4)', intOption('count', 1, 1_000_000))
    .option('-i, --interval <time>', 'between probes, as hping3 -i: seconds, or 200ms, 1s (default 1)', intervalOption())
    .option('--timeout <time>', 'wait for each reply: seconds, or 500ms (default: the interval, at least 0.5)', durationOption())
    .option('-I, --iface <name>', 'leave by this interface (hping3 -I)')
    .option('--json', 'print the replies and statistics as JSON')
    .addHelpText(
      'after',
      examples(
        'sudo synack ping 127.0.0.1 -S -p 22',
        'sudo synack ping 127.0.0.1 -S -p 80 -c 10 -i 0.2 --mss 1460 --ts',
        'sudo synack ping 127.0.0.1 -F -P -U -p 9        # Xmas: a closed port answers RA',
        'sudo synack ping 127.0.0.1 -A -p 22 --setack 12345 --win 512',
        'sudo synack ping 127.0.0.1 -S -p 22 --badsum     # a bad checksum gets no answer',
        'sudo synack ping ::1 -S -p 22 -I lo',
      ),
    )
    // hping3 spells the ACK number -L / --setack; --ack is the ACK flag's long name here.
    .action(
      action(async (hostText: string, opts: PingOptions) => {
        const host = parseAddress(hostText, 'host');
        const dport = opts.port === undefined ? 0 : parsePort(opts.port, 'port', true);
        checkIface(opts.iface);
        requireRawPrivilege('synack ping');
        let bits = 0;
        if (opts.fin) bits |= 0x01;
        if (opts.syn) bits |= 0x02;
        if (opts.rst) bits |= 0x04;
        if (opts.push) bits |= 0x08;
        if (opts.ack) bits |= 0x10;
        if (opts.urg) bits |= 0x20;
        const count = opts.count ?? 4;
        const interval = opts.interval ?? 1000;
        const timeout = opts.timeout ?? Math.max(500, interval);
        const options: TCPOption[] = [];
        if (opts.mss !== undefined) options.push(['MSS', opts.mss]);
        if (opts.ts) options.push(['NOP'], ['NOP'], ['Timestamp', [(Math.random() * 0x100000000) >>> 0, 0]]);
        const base = 1024 + Math.floor(Math.random() * 30000);
        const seq = opts.seq ?? (Math.random() * 0x100000000) >>> 0;
        const route = routeTo(host);
        const make = (i: number): Packet => {
          const tcp = TCP({
            sport: base + i,
            dport,
            seq,
            ack: opts.setack ?? 0,
            flags: bits,
            window: opts.win ?? 64,
            ...(options.length ? { options } : {}),
          });
          const p = (isIPv6(host) ? IPv6({ src: route.src, dst: host, hlim: opts.ttl ?? 64 }) : IP({ src: route.src, dst: host, ttl: opts.ttl ?? 64 })).add(tcp);
          if (opts.badsum) {
            // The right checksum plus one: wrong, and still this probe's own.
            const right = p.bytes();
            const off = isIPv6(host) ? 40 : (right[0]! & 15) * 4;
            (p.layer(TCPLayer).fields as Record<string, unknown>).chksum = (right.readUInt16BE(off + 16) + 1) & 0xffff;
          }
          return p;
        };
        const headerBytes = make(0).bytes().length;
        const lines: string[] = [];
        const say = (line: string): void => {
          if (opts.json) lines.push(line);
          else out(line + '\n');
        };
        say(`HPING ${host} (${opts.iface ?? route.iface} ${host}): ${setFlagsText(bits)}, ${headerBytes} headers + 0 data bytes`);
        const replies: PingReply[] = [];
        for (let i = 0; i < count; i++) {
          const started = performance.now();
          const probe = make(i);
          const { answered } = await sr(probe, { timeout, iface: opts.iface });
          const a = answered[0];
          if (a) {
            const r = describeReply(i, a[1], a.rtt);
            if (r) {
              replies.push(r);
              say(replyLine(r));
            }
          }
          const left = interval - (performance.now() - started);
          if (i + 1 < count && left > 0) await sleep(left);
        }
        const rtts = replies.map((r) => r.rtt);
        const min = rtts.length ? Math.min(...rtts) : 0;
        const max = rtts.length ? Math.max(...rtts) : 0;
        const avg = rtts.length ? rtts.reduce((x, y) => x + y, 0) / rtts.length : 0;
        const loss = Math.round(((count - replies.length) / count) * 100);
        if (opts.json) {
          out(JSON.stringify({ host, transmitted: count, received: replies.length, loss_percent: loss, rtt_ms: { min, avg, max }, replies: replies.map(({ rtt, ...r }) => ({ ...r, rtt_ms: rtt })) }, null, 2) + '\n');
        } else {
          out(`\n--- ${host} hping statistic ---\n${count} packets transmitted, ${replies.length} packets received, ${loss}% packet loss\n`);
          out(`round-trip min/avg/max = ${min.toFixed(1)}/${avg.toFixed(1)}/${max.toFixed(1)} ms\n`);
        }
        return replies.length > 0 ? 0 : EXIT_NO_ANSWER;
      }),
    );
}
