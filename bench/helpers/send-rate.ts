/**
 * Send rate of prebuilt SYNs, synack's send() beside its peer (hping3 --flood) and its ceilings
 * (C loops on the same path), side by side in one run.
 *
 * What is counted: SYNs that reached the target's TCP, read from the target namespace's Tcp
 * OutRsts (one RST per SYN to a closed port). Frames that merely left an interface are not
 * counted.
 *
 * How: every contender is a separate process, one sender each, started, given 400 ms to reach
 * steady state, then counted over a 2 s window; start-up and teardown are outside the window
 * for everyone. Each contender runs in every round, interleaved, every round is printed and
 * the median is reported, ratios as the median of the per-round ratios (the two ran seconds
 * apart, under the same load). For every sender the user and system CPU time spent per SYN
 * counted in the window is read from /proc/PID/stat: on a loaded machine the senders get a
 * share of a core, so the rate ratio moves with the load; the ratio of CPU per SYN does not,
 * and is printed beside it.
 *
 * Where, both in namespaces of the bench's own, so that nobody else's traffic or captures
 * share the path (a capture anywhere on the host's lo runs tpacket_rcv inside every sender's
 * sendto there, which inflated the kernel's cost per SYN in the figures taken on the host's lo):
 * - lo: a private namespace's lo, 127.0.0.1 to itself. Everyone leaves by a raw socket (synack's
 *   send() keeps the raw socket for a local destination: src/sr/injected-way.ts). Ceilings:
 *   bench/helpers/sendto-loop.c, a C loop of raw sendto(2) of the same packet, and the same with
 *   sendmmsg(2), 64 a call; and bench/helpers/raw-socket-loop.ts, the bare raw-socket addon in a
 *   loop, the floor of any sender that leaves through raw-socket.
 * - veth: namespace A -> namespace B's 198.51.100.2 over a veth pair, counted in B. synack's
 *   send() takes the injected way there after its first pass. Ceilings: the C sendto loop, and
 *   bench/helpers/packet-loop.c, a C loop writing the whole frame on an AF_PACKET socket (what
 *   the injected way does per packet, with nothing around it), and bench/helpers/pcap-loop.c, the
 *   same through a libpcap capture handle opened and polled as cap's is (the handle the injected
 *   way has: the kernel hands it every frame that arrives, each RST back, to be filtered out,
 *   and each frame sent wakes the epoll entry on its socket). synack's sendp (cap) beside.
 * With `--send-baseline DIR` (a checkout of the code before a change, with its node_modules),
 * that checkout's send() runs as one more contender in both places: an A/B in the same run.
 * The C loops are built with the machine's cc into a temporary directory (bench/helpers/c-loop.ts).
 * Senders are bounded in count and time, and namespaces and children are removed in `finally`
 * and on SIGINT/SIGTERM.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetnsPair, type NetnsPair } from '../../test/helpers/netns.js';
import { IP, TCP } from '../../src/index.js';
import { argValue } from './args.js';
import { buildCLoop, type CLoop } from './c-loop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SENDER = join(HERE, 'flood-sender.ts');
const ADDON_LOOP = join(HERE, 'raw-socket-loop.ts');
const WARMUP_MS = 400;
const WINDOW_MS = 2000;
/** Every sender stops by itself after this long, whatever happens to the bench. */
const SENDER_SECONDS = 6;
const SENDER_COUNT = 20_000_000;
const PORT = 61999;

const children = new Set<ChildProcess>();
const built: CLoop[] = [];
const namespaces: string[] = [];
let pair: NetnsPair | undefined;

function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  pair?.remove();
  pair = undefined;
  for (const ns of namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  for (const c of built.splice(0)) c.remove();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanup();
  process.kill(process.pid, signal);
}

/**
 * CPU seconds of a live process and its children (hping3 runs under timeout(1), which forks
 * it): user and system from /proc/PID/stat (in ticks, split by sampling), and all of it from
 * /proc/PID/schedstat (the scheduler's own count, in ns: the precise one).
 */
function cpuOf(pid: number | undefined): CpuSplit | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    const own = { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100, all: Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9 };
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean);
    for (const kid of kids) {
      const k = cpuOf(Number(kid));
      if (k) {
        own.user += k.user;
        own.system += k.system;
        own.all += k.all;
      }
    }
    return own;
  } catch {
    return undefined;
  }
}

/** Tcp OutRsts of a namespace. */
function outRsts(ns: string): number {
  const text = execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' });
  const lines = text.split('\n').filter((l) => l.startsWith('Tcp:'));
  return Number(lines[1]!.split(/\s+/)[lines[0]!.split(/\s+/).indexOf('OutRsts')]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * argv, run in `ns`, on every CPU: bench/run.ts pins the bench to one core and children inherit
 * that, which would put the sender on the bench's core.
 */
function start(ns: string, argv: string[]): ChildProcess {
  const cpus = `0-${availableParallelism() - 1}`;
  const child = spawn('ip', ['netns', 'exec', ns, 'taskset', '-c', cpus, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** CPU the sender spent in user space, in the kernel, and all (seconds; per SYN counted, µs). */
interface CpuSplit {
  user: number;
  system: number;
  all: number;
}

interface Round {
  rate: number;
  cpu: CpuSplit | undefined;
}

/** SYNs per second that reached TCP while `launch`'s process ran, in a steady window. */
async function measure(launch: () => ChildProcess, counter: () => number): Promise<Round> {
  const kid = launch();
  // Started = first output (hping3 writes its banner to stderr, the others 'sending' to stdout).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, 5000);
    const go = (): void => {
      clearTimeout(timer);
      resolve();
    };
    kid.stdout!.once('data', go);
    kid.stderr!.once('data', go);
    kid.once('exit', (code) => reject(new Error(`sender exited early (${code}) before sending`)));
  });
  await sleep(WARMUP_MS);
  const cpu0 = cpuOf(kid.pid);
  const c0 = counter();
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const c1 = counter();
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuOf(kid.pid);
  kid.kill('SIGINT');
  if (kid.exitCode === null && kid.signalCode === null) await new Promise((r) => kid.once('exit', r));
  const n = c1 - c0;
  const per = (k: keyof CpuSplit): number => ((cpu1![k] - cpu0![k]) * 1e6) / n;
  const cpu = cpu0 && cpu1 && n > 0 ? { user: per('user'), system: per('system'), all: per('all') } : undefined;
  return { rate: n / seconds, cpu };
}

interface Contender {
  place: 'lo' | 'veth';
  name: string;
  run: () => Promise<Round>;
  rounds: Round[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
const total = (x: CpuSplit): number => x.all;

function ethernetFrame(dstMac: string, srcMac: string, ip: Buffer): Buffer {
  const header = Buffer.alloc(14);
  Buffer.from(dstMac.replace(/:/g, ''), 'hex').copy(header, 0);
  Buffer.from(srcMac.replace(/:/g, ''), 'hex').copy(header, 6);
  header.writeUInt16BE(0x0800, 12);
  return Buffer.concat([header, ip]);
}

const syn = (src: string, dst: string): Buffer => IP({ src, dst }).add(TCP({ sport: 40000, dport: PORT, flags: 'S' })).bytes();
const macOf = (ns: string, dev: string): string =>
  (JSON.parse(execFileSync('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev], { encoding: 'utf8' })) as Array<{ address: string }>)[0]!.address;

const SYNACK = 'synack send';
const BASELINE = 'synack send (baseline)';
const C_SENDTO = 'C loop of sendto';
const C_PACKET = 'C loop of AF_PACKET send';
const C_PCAP = 'C loop of pcap_sendpacket';
const ADDON = 'raw-socket bare loop';
const HPING = 'hping3 --flood';

export async function sendRateBench(rounds = Number(argValue('--send-rounds') ?? 3)): Promise<void> {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const baselineDir = argValue('--send-baseline');
  const baseline = baselineDir ? join(resolve(baselineDir), 'bench', 'helpers', 'flood-sender.ts') : undefined;
  try {
    pair = createNetnsPair('rate');
    const { a, b } = pair;
    const lo = `synack-rate-lo-${process.pid}`;
    namespaces.push(lo);
    execFileSync('ip', ['netns', 'add', lo]);
    execFileSync('ip', ['-n', lo, 'link', 'set', 'lo', 'up']);

    const loSyn = syn('127.0.0.1', '127.0.0.1');
    const vethSyn = syn(pair.addrA.v4, pair.addrB.v4);
    const vethFrame = ethernetFrame(macOf(b, 'veth-sb'), macOf(a, 'veth-sa'), vethSyn);
    const inLo = (): number => outRsts(lo);
    const inB = (): number => outRsts(b);
    const bounds = [String(SENDER_SECONDS), String(SENDER_COUNT)];
    const sendto = buildCLoop('sendto-loop');
    const packet = buildCLoop('packet-loop');
    const pcap = buildCLoop('pcap-loop');
    const notBuilt = [sendto, packet, pcap].filter((c): c is string => typeof c === 'string');
    for (const c of [sendto, packet, pcap]) if (typeof c !== 'string') built.push(c);

    const node = (script: string, args: string[]): string[] => [process.execPath, '--import', 'tsx', script, ...args];
    const at = (place: 'lo' | 'veth'): { ns: string; count: () => number; ip: Buffer; dst: string } =>
      place === 'lo' ? { ns: lo, count: inLo, ip: loSyn, dst: '127.0.0.1' } : { ns: a, count: inB, ip: vethSyn, dst: pair!.addrB.v4 };
    const contenders: Contender[] = [];
    const add = (place: 'lo' | 'veth', name: string, argv: () => string[]): void => {
      const where = at(place);
      contenders.push({ place, name, run: () => measure(() => start(where.ns, argv()), where.count), rounds: [] });
    };
    for (const place of ['lo', 'veth'] as const) {
      const { ip, dst } = at(place);
      const hex = ip.toString('hex');
      add(place, HPING, () => ['timeout', '-s', 'INT', String(SENDER_SECONDS), 'hping3', '--flood', '-S', '-p', String(PORT), dst]);
      add(place, SYNACK, () => node(SENDER, ['send', hex, ...bounds]));
      if (baseline) add(place, BASELINE, () => node(baseline, ['send', hex, ...bounds]));
      add(place, ADDON, () => node(ADDON_LOOP, [hex, ...bounds]));
      if (typeof sendto !== 'string') add(place, C_SENDTO, () => [sendto.path, hex, ...bounds]);
      if (place === 'lo' && typeof sendto !== 'string') add(place, 'C loop of sendmmsg x64', () => [sendto.path, hex, ...bounds, '64']);
      if (place === 'veth') {
        const frame = vethFrame.toString('hex');
        if (typeof packet !== 'string') add(place, C_PACKET, () => [packet.path, frame, ...bounds, 'veth-sa']);
        if (typeof pcap !== 'string') add(place, C_PCAP, () => [pcap.path, frame, ...bounds, 'veth-sa']);
        add(place, 'synack sendp (cap)', () => node(SENDER, ['sendp', frame, ...bounds, 'veth-sa']));
      }
    }

    console.log(`\nsend rate of prebuilt SYNs to a closed port, one process each: SYNs that reached the target's TCP per second`);
    console.log(`  (${rounds} interleaved rounds, ${WINDOW_MS / 1000} s steady window each; lo: a private namespace's; veth: between two namespaces)`);
    for (let round = 0; round < rounds; round++) {
      for (const k of contenders) {
        const r = await k.run();
        k.rounds.push(r);
        const cpu = r.cpu ? `  CPU/SYN ${r.cpu.all.toFixed(2)} µs (${r.cpu.user.toFixed(2)} user, ${r.cpu.system.toFixed(2)} kernel)` : '';
        console.log(`  round ${round + 1}  ${k.place.padEnd(5)} ${k.name.padEnd(26)} ${fmt(r.rate).padStart(9)}/s${cpu}`);
      }
    }

    const find = (place: string, name: string): Contender | undefined => contenders.find((k) => k.place === place && k.name === name);
    console.log(`\n  medians [every round]; CPU per SYN counted, medians (µs): all (schedstat), user and kernel (sampled)`);
    for (const k of contenders) {
      const cpus = k.rounds.map((r) => r.cpu).filter((c): c is CpuSplit => c !== undefined);
      const cpu = cpus.length ? `${median(cpus.map(total)).toFixed(2)} (${median(cpus.map((c) => c.user)).toFixed(2)}, ${median(cpus.map((c) => c.system)).toFixed(2)})` : '-';
      console.log(`  ${k.place.padEnd(5)} ${k.name.padEnd(26)} ${fmt(median(k.rounds.map((r) => r.rate))).padStart(9)}/s  [${k.rounds.map((r) => fmt(r.rate)).join(', ')}]   CPU ${cpu}`);
    }
    /** Median of the per-round ratios ours/theirs, of the rate and of SYNs per CPU-second. */
    const ratio = (place: string, ours: string, theirs: string): string => {
      const o = find(place, ours);
      const t = find(place, theirs);
      if (!o || !t) return '-';
      const rate = o.rounds.map((r, i) => r.rate / t.rounds[i]!.rate);
      const perCpu = o.rounds.flatMap((r, i) => (r.cpu && t.rounds[i]!.cpu ? [total(t.rounds[i]!.cpu!) / total(r.cpu)] : []));
      const list = (xs: number[]): string => `${median(xs).toFixed(2)}x [${xs.map((x) => x.toFixed(2)).join(', ')}]`;
      return `rate ${list(rate)}   per CPU-second ${perCpu.length ? list(perCpu) : '-'}`;
    };
    const lines: Array<[string, string, string, string]> = [
      ['lo', SYNACK, C_SENDTO, 'synack send / C sendto (target >= 0.95)'],
      ['lo', ADDON, C_SENDTO, "raw-socket bare loop / C sendto (the addon's ceiling)"],
      ['lo', SYNACK, ADDON, 'synack send / raw-socket bare loop'],
      ['lo', 'C loop of sendmmsg x64', C_SENDTO, 'C sendmmsg x64 / C sendto (what batching buys)'],
      ['lo', SYNACK, HPING, 'synack send / hping3 --flood'],
      ['lo', SYNACK, BASELINE, 'synack send / baseline send'],
      ['veth', SYNACK, C_SENDTO, 'synack send / C sendto (target >= 0.95)'],
      ['veth', SYNACK, C_PACKET, 'synack send / C AF_PACKET (the injected way\'s ceiling)'],
      ['veth', SYNACK, C_PCAP, 'synack send / C pcap_sendpacket (with cap\'s handle)'],
      ['veth', C_PCAP, C_PACKET, 'C pcap_sendpacket / C AF_PACKET (the handle\'s cost)'],
      ['veth', ADDON, C_SENDTO, 'raw-socket bare loop / C sendto'],
      ['veth', SYNACK, HPING, 'synack send / hping3 --flood'],
      ['veth', 'synack sendp (cap)', C_PACKET, 'synack sendp / C AF_PACKET'],
      ['veth', SYNACK, BASELINE, 'synack send / baseline send'],
    ];
    console.log(`  ratios, medians of the per-round ratios [each round]:`);
    for (const [place, ours, theirs, label] of lines) {
      if (find(place, ours) && find(place, theirs)) console.log(`    ${place.padEnd(5)} ${label.padEnd(56)} ${ratio(place, ours, theirs)}`);
    }
    for (const why of notBuilt) console.log(`  ${why}`);
    console.log(`  (on lo every sender leaves by a raw socket, so the kernel's share per SYN is the same for all and the gap to C`);
    console.log(`   is user CPU: raw-socket's cost per call, an address string converted, a persistent handle and a JavaScript`);
    console.log(`   callback per packet, with no batched send. Its bare loop is the ceiling of any sender through it; on veth`);
    console.log(`   synack's send leaves by packet-socket injection after its first pass, which skips routing, netfilter and`);
    console.log(`   the neighbour lookup per packet, and C's AF_PACKET loop is that way's ceiling; cap has no send-only handle,`);
    console.log(`   so the way injects through a polled capture handle, which the kernel hands every arriving RST to be filtered`);
    console.log(`   out and whose epoll entry every sent frame wakes: C's pcap_sendpacket loop is the ceiling with that handle)`);
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
