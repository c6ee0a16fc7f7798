/**
 * `synack scan HOST -p PORTS`: nmap's -sS/-sF/-sN/-sX/-sA from one source port, as fast as the
 * host answers.
 *
 * Speed comes from three choices: the probes are one frame template whose destination port
 * and TCP checksum are patched in place (RFC 1624 incremental update: no build per port);
 * they leave by link-layer injection on the capture's own handle (cap's pcap_inject, ~500k
 * frames/s on lo), with a raw socket as the fallback when the next hop's MAC is unknown; and
 * one capture, filtered in the kernel to replies to our source port, classifies each answer
 * from a few bytes without dissecting. Probes go out in batches of BATCH per event-loop turn
 * so that the capture drains between them. Ports that did not answer are probed again
 * (--retries), then settled as nmap settles them.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Capture } from '../io/capture.js';
import { linkHeaderFor, networkOffset } from '../io/framing.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { RawSender } from '../io/raw-sender.js';
import { routeTo } from '../io/route.js';
import { IP, IPv6, TCP } from '../packet/factories.js';
import { SynackError, usageError } from '../wire/errors.js';
import { examples, intOption, out, palette, parseAddress, parsePortList, sleep } from './common.js';
import { durationOption } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';
import { checkIface } from './send.js';

export type ScanType = 'syn' | 'fin' | 'null' | 'xmas' | 'ack';

const PROBE_FLAGS: Record<ScanType, string> = { syn: 'S', fin: 'F', null: '', xmas: 'FPU', ack: 'A' };

/** Port states, stored one byte per port. */
const UNKNOWN = 0;
const OPEN = 1;
const CLOSED = 2;
const FILTERED = 3;
const UNFILTERED = 4;
const OPEN_FILTERED = 5;
const STATE_NAMES = ['unknown', 'open', 'closed', 'filtered', 'unfiltered', 'open|filtered'] as const;
const REASONS = ['', 'syn-ack', 'reset', 'no-response', 'reset', 'no-response'];

const BATCH = 256;

export interface ScanResult {
  host: string;
  type: ScanType;
  seconds: number;
  probesSent: number;
  ports: Record<string, number[]>;
}

interface ScanConfig {
  host: string;
  ports: number[];
  type: ScanType;
  retries: number;
  rate: number | undefined;
  /** Longest wait for answers after a round's last probe, ms. */
  timeout: number;
  iface: string | undefined;
  onProgress?: (sent: number, total: number, answered: number) => void;
}

/**
 * A source port in Linux's ephemeral range (32768-60999), picked at random. Not tcp/connect's
 * ephemeralPort(): importing connect loads conversations, guards and the TCP wire (~30 ms of
 * start-up, a third of a full-port scan's margin over nmap), and one scan needs one port.
 */
function scanSourcePort(): number {
  return 32768 + Math.floor(Math.random() * (60999 - 32768 + 1));
}

/** Runs the scan; every probe goes to cfg.host only, bounded by the port list and retries. */
export async function runScan(cfg: ScanConfig): Promise<ScanResult> {
  requireRawPrivilege('synack scan');
  const v6 = cfg.host.includes(':');
  const route = routeTo(cfg.host);
  const iface = cfg.iface ?? route.iface;
  const src = route.src;
  const sport = scanSourcePort();
  const seq = (Math.random() * 0x100000000) >>> 0;
  const states = new Uint8Array(65536);
  const reasons = new Uint8Array(65536);
  const wanted = new Uint8Array(65536);
  for (const p of cfg.ports) wanted[p] = 1;
  let answered = 0;
  let lastAnswer = 0;
  let firstSent = 0;
  /** The first answer's round trip, ms: how long silence must last before a round ends. */
  let rtt = 50;
  let rttKnown = false;
  const type = cfg.type;

  // Replies to our source port, and ICMP errors to us: nothing else is copied to user space.
  const filter = v6
    ? `(ip6 and tcp and src host ${cfg.host} and dst port ${sport}) or (icmp6 and dst host ${src})`
    : `(tcp and src host ${cfg.host} and dst port ${sport}) or (icmp and dst host ${src})`;
  const settle = (port: number, state: number, reason: number): void => {
    if (!wanted[port] || states[port] !== UNKNOWN) return;
    states[port] = state;
    reasons[port] = reason;
    answered++;
    lastAnswer = performance.now();
    if (!rttKnown && firstSent > 0) {
      rttKnown = true;
      rtt = lastAnswer - firstSent;
    }
  };
  const onTcp = (b: Buffer, l4: number, length: number): void => {
    if (length < l4 + 14) return;
    if (b.readUInt16BE(l4 + 2) !== sport) return;
    const port = b.readUInt16BE(l4);
    const flags = b[l4 + 13]!;
    if (flags & 0x04) settle(port, type === 'ack' ? UNFILTERED : CLOSED, 2);
    else if ((flags & 0x12) === 0x12 && type === 'syn' && b.readUInt32BE(l4 + 8) === ((seq + 1) >>> 0)) settle(port, OPEN, 1);
  };
  const capture = new Capture(
    iface,
    (b, length, _time, _truncated) => {
      const off = networkOffset(b, length, capture.link);
      if (off < 0 || length < off + 20) return;
      if (!v6) {
        const l4 = off + (b[off]! & 15) * 4;
        const proto = b[off + 9];
        if (proto === 6) onTcp(b, l4, length);
        else if (proto === 1 && b[l4] === 3 && length >= l4 + 8 + 24) {
          // Unreachable: the quoted header says which probe. Codes 0-3, 9, 10, 13 mean filtered.
          const code = b[l4 + 1]!;
          if (![0, 1, 2, 3, 9, 10, 13].includes(code)) return;
          const q = l4 + 8;
          const ql4 = q + (b[q]! & 15) * 4;
          if (length < ql4 + 4 || b[q + 9] !== 6 || b.readUInt16BE(ql4) !== sport) return;
          settle(b.readUInt16BE(ql4 + 2), FILTERED, 3);
        }
      } else if (length >= off + 40) {
        const nh = b[off + 6];
        const l4 = off + 40;
        if (nh === 6) onTcp(b, l4, length);
        else if (nh === 58 && b[l4] === 1 && length >= l4 + 8 + 40 + 4) {
          const q = l4 + 8;
          if (b[q + 6] !== 6 || b.readUInt16BE(q + 40) !== sport) return;
          settle(b.readUInt16BE(q + 42), FILTERED, 3);
        }
      }
    },
    { filter, bufferSize: 64 * 1024 * 1024 },
  );

  try {
    // The probe template: destination port 0, checksum over that; each port patches both.
    const tcp = TCP({ sport, dport: 0, seq, ack: 0, flags: PROBE_FLAGS[type], window: 1024, ...(type === 'syn' ? { options: [['MSS', 1460]] } : {}) });
    const ipBytes = (v6 ? IPv6({ src, dst: cfg.host }) : IP({ src, dst: cfg.host, id: (Math.random() * 65536) >>> 0 })).add(tcp).bytes();
    const tcpOff = v6 ? 40 : (ipBytes[0]! & 15) * 4;
    const baseSum = ~ipBytes.readUInt16BE(tcpOff + 16) & 0xffff;
    let header: Buffer;
    let l3Sender: RawSender | undefined;
    try {
      if (!injectionAnswered(cfg.host, iface)) throw new SynackError('no injection', 'system');
      header = linkHeaderFor({ ...route, iface }, capture.link, v6 ? 6 : 4);
    } catch (err) {
      if (!(err instanceof SynackError)) throw err;
      // The kernel would not answer an injected frame, or the next hop's MAC is not known:
      // let the kernel route and resolve (a raw socket).
      header = Buffer.alloc(0);
      l3Sender = new RawSender(v6 ? 6 : 4, cfg.iface);
    }
    const frame = Buffer.alloc(header.length + ipBytes.length);
    header.copy(frame, 0);
    ipBytes.copy(frame, header.length);
    const portAt = header.length + tcpOff + 2;
    const sumAt = header.length + tcpOff + 16;
    const ipView = frame.subarray(header.length);

    const sendOne = (port: number): boolean => {
      frame.writeUInt16BE(port, portAt);
      let sum = baseSum + port;
      sum = (sum & 0xffff) + (sum >>> 16);
      frame.writeUInt16BE(~sum & 0xffff, sumAt);
      if (l3Sender) return l3Sender.trySend(ipView, cfg.host);
      capture.inject(frame);
      return true;
    };

    const started = performance.now();
    let probesSent = 0;
    let pending = cfg.ports;
    const total = cfg.ports.length;
    for (let round = 0; round <= cfg.retries && pending.length > 0; round++) {
      const roundStart = performance.now();
      let i = 0;
      while (i < pending.length) {
        let budget = BATCH;
        if (cfg.rate !== undefined) {
          const allowed = Math.floor(((performance.now() - roundStart) / 1000) * cfg.rate) + 1 - i;
          if (allowed <= 0) {
            await sleep(1);
            continue;
          }
          budget = Math.min(budget, allowed);
        }
        const end = Math.min(pending.length, i + budget);
        for (; i < end; i++) {
          const port = pending[i]!;
          if (states[port] !== UNKNOWN) continue;
          if (!sendOne(port)) {
            await sleep(1);
            break;
          }
          if (probesSent++ === 0) firstSent = performance.now();
        }
        cfg.onProgress?.(Math.min(total, probesSent), total, answered);
        // Let the capture drain before the next batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // Wait for the stragglers: until every port answered, the line goes quiet, or the timeout.
      const sentAll = performance.now();
      // Silence worth waiting for: a few round trips (measured on the first answer), at least 20 ms.
      const quiet = Math.min(cfg.timeout, Math.max(20, 4 * rtt + 10));
      while (answered < total) {
        const now = performance.now();
        if (now - sentAll >= cfg.timeout) break;
        if (now - sentAll >= quiet && now - Math.max(lastAnswer, sentAll) >= quiet) break;
        await sleep(5);
      }
      pending = pending.filter((p) => states[p] === UNKNOWN);
      if (process.env.SYNACK_DEBUG) process.stderr.write(`round ${round}: sent by ${(sentAll - roundStart).toFixed(0)} ms, settled by ${(performance.now() - roundStart).toFixed(0)} ms, ${answered} answered, ${pending.length} silent\n`);
      cfg.onProgress?.(Math.min(total, probesSent), total, answered);
    }
    l3Sender?.close();
    // What never answered: nmap's verdicts.
    const silent = type === 'syn' || type === 'ack' ? FILTERED : OPEN_FILTERED;
    for (const p of cfg.ports) {
      if (states[p] === UNKNOWN) {
        states[p] = silent;
        reasons[p] = 3;
      }
    }
    const ports: Record<string, number[]> = {};
    for (const name of STATE_NAMES.slice(1)) ports[name] = [];
    for (const p of cfg.ports) ports[STATE_NAMES[states[p]!]]!.push(p);
    return { host: cfg.host, type, seconds: (performance.now() - started) / 1000, probesSent, ports };
  } finally {
    capture.close();
  }
}

/**
 * Whether the kernel answers a frame injected on `iface` for `host`. A frame injected on lo
 * enters as if it came from a wire, and Linux drops one addressed to 127.0.0.0/8 there
 * ("martian destination") unless net.ipv4.conf.lo.route_localnet is 1; the raw socket,
 * whose packets carry their route with them, is the way in then.
 */
function injectionAnswered(host: string, iface: string): boolean {
  if (!host.includes(':') && host.startsWith('127.')) {
    try {
      return readFileSync(`/proc/sys/net/ipv4/conf/${iface}/route_localnet`, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  }
  return true;
}

interface ScanCommandOptions {
  ports?: string;
  rate?: number;
  type?: string;
  retries?: number;
  timeout?: number;
  iface?: string;
  json?: boolean;
  all?: boolean;
}

function progressBar(stream: NodeJS.WriteStream): ((sent: number, total: number, answered: number) => void) & { done(): void } {
  let last = 0;
  const draw = (sent: number, total: number, answered: number): void => {
    const now = performance.now();
    if (now - last < 80 && sent < total) return;
    last = now;
    const width = 30;
    const filled = Math.round((sent / Math.max(1, total)) * width);
    stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${sent}/${total} probes, ${answered} answers`);
  };
  return Object.assign(draw, { done: () => stream.write('\r\x1b[K') });
}

/** nmap-like table: every open port, and the other states listed unless there are many. */
export function formatScan(r: ScanResult, showAll: boolean): string {
  const c = palette();
  const colour: Record<string, (s: string) => string> = { open: c.green, closed: c.red, filtered: c.yellow, unfiltered: c.green, 'open|filtered': c.yellow };
  const total = Object.values(r.ports).reduce((n, l) => n + l.length, 0);
  const lines = [`synack scan ${r.host} (${r.type}): ${total} port${total === 1 ? '' : 's'} in ${r.seconds.toFixed(2)} s, ${r.probesSent} probes`];
  const listed: Array<[number, string]> = [];
  const hidden: string[] = [];
  for (const [state, ports] of Object.entries(r.ports)) {
    if (ports.length === 0) continue;
    if (state === 'open' || showAll || ports.length <= 25) for (const p of ports) listed.push([p, state]);
    else hidden.push(`${ports.length} ${state}`);
  }
  listed.sort((a, b) => a[0] - b[0]);
  if (hidden.length) lines.push(`Not shown: ${hidden.join(', ')} port${hidden.length === 1 && hidden[0]!.startsWith('1 ') ? '' : 's'}`);
  if (listed.length) {
    lines.push('PORT        STATE          REASON');
    for (const [p, state] of listed) {
      const reason = state === 'open' ? REASONS[OPEN] : state === 'closed' || state === 'unfiltered' ? 'reset' : 'no-response';
      lines.push(`${`${p}/tcp`.padEnd(12)}${colour[state]!(state.padEnd(15))}${reason}`);
    }
  } else if (!hidden.length) lines.push('no ports');
  return lines.join('\n');
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description("scan TCP ports as nmap -sS/-sF/-sN/-sX/-sA does: open, closed, filtered, settled by retries")
    .argument('<host>', 'the address to scan (IPv4 or IPv6; names are not resolved)')
    .option('-p, --ports <list>', "ports: '22', '1-1024,8080', '-' for all 65535", '1-1024')
    .option('--type <type>', 'syn, fin, null, xmas or ack', 'syn')
    .option('--rate <n>', 'at most this many probes per second (default: as fast as the host answers)', intOption('rate', 1, 10_000_000))
    .option('--retries <n>', 'probe the silent ports again this many times', intOption('retries', 0, 20), 2)
    .option('--timeout <time>', 'longest wait for answers after each round: seconds, or 500ms (default 1)', durationOption())
    .option('--iface <name>', 'leave by this interface')
    .option('--all', 'list every port, not only open ones and small groups')
    .option('--json', 'print the result as JSON (every port under its state)')
    .addHelpText(
      'after',
      examples(
        'sudo synack scan 127.0.0.1',
        'sudo synack scan 127.0.0.1 -p 1-1024,8080',
        'sudo synack scan 127.0.0.1 -p - --json',
        'sudo synack scan ::1 -p 22,80,443 --type fin --retries 2',
        'sudo synack scan 127.0.0.1 -p 1-10000 --rate 5000 --type ack',
      ),
    )
    .action(
      action(async (hostText: string, opts: ScanCommandOptions) => {
        const host = parseAddress(hostText, 'host');
        const type = (opts.type ?? 'syn').toLowerCase();
        if (!(type in PROBE_FLAGS)) throw usageError(`unknown scan type '${opts.type}': use syn, fin, null, xmas or ack`);
        const ports = parsePortList(opts.ports ?? '1-1024');
        if (ports.includes(0)) throw usageError('port 0 cannot be scanned: ports are 1-65535');
        checkIface(opts.iface);
        const bar = process.stderr.isTTY && !opts.json ? progressBar(process.stderr) : undefined;
        let result: ScanResult;
        try {
          result = await runScan({
            host,
            ports,
            type: type as ScanType,
            retries: opts.retries ?? 2,
            rate: opts.rate,
            timeout: opts.timeout ?? 1000,
            iface: opts.iface,
            onProgress: bar,
          });
        } finally {
          bar?.done();
        }
        if (opts.json) out(JSON.stringify({ ...result, seconds: Number(result.seconds.toFixed(3)) }) + '\n');
        else out(formatScan(result, opts.all ?? false) + '\n');
        const heard = ports.length - result.ports['filtered']!.length - result.ports['open|filtered']!.length;
        return heard > 0 || type !== 'syn' ? 0 : EXIT_NO_ANSWER;
      }),
    );
}
