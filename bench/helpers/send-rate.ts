/**
 * Send rate of prebuilt SYNs, synack vs `hping3 --flood`, side by side in one run.
 *
 * What is counted: SYNs that reached the target's TCP, read from the target namespace's
 * Tcp OutRsts (one RST per SYN to a closed port). Frames that merely left an interface are
 * not counted: cap injection on lo toward 127.0.0.1 leaves lo but is dropped as a martian.
 *
 * How: every contender is a separate process (hping3, or bench/helpers/flood-sender.ts which
 * calls synack's public send()/sendp()), started, given 400 ms to reach steady state, then
 * counted over a 2 s window; startup and teardown are outside the window for everyone. Each
 * contender runs in every round, interleaved, and the median round is reported (other work
 * on the machine moves single runs by +-30%).
 *
 * Where:
 * - lo: the host's loopback toward 127.0.0.1 (raw-socket send; hping3 uses a raw socket too).
 * - veth: namespace A -> namespace B's 198.51.100.2 over a veth pair. synack injects whole
 *   frames with cap on A's veth (the fast path); hping3 runs in A. Counted in B.
 * The ceilings, on the same path (lo): bench/helpers/sendto-loop.c, a C loop of raw sendto(2) of
 * the same packet, built here with the machine's cc into a temporary directory; and
 * bench/helpers/raw-socket-loop.ts, the bare raw-socket addon in a loop (the floor of any sender
 * that leaves through raw-socket, as synack's send does: the addon sends one packet a call and
 * has no sendmmsg); and the C loop again with sendmmsg(2), 64 packets a call, for what a batched
 * send would buy over one syscall per packet. For them and for synack's send, the user and system CPU time each spent per
 * SYN counted in the window is read from /proc/PID/stat: the kernel's work inside sendto (the
 * target's RST built inside it included) against what the addon and JavaScript add outside it.
 * On a loaded machine the senders get a share of a core, so the rate ratio moves with the load;
 * the ratio of CPU per SYN does not, and is printed beside it.
 * - ns lo: a namespace's own lo with 198.51.100.3 on it, so that injected frames reach TCP
 *   (accept_local=1 on that namespace's lo lets a frame whose source is a local address in;
 *   the host's settings are not touched).
 * Senders are bounded in count and time, and namespaces and children are removed in `finally`
 * and on SIGINT/SIGTERM.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetnsPair, type NetnsPair } from '../../test/helpers/netns.js';
import { IP, TCP } from '../../src/index.js';
import { buildCLoop, type CLoop } from './c-loop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const SENDER = join(HERE, 'flood-sender.ts');
const ADDON_LOOP = join(HERE, 'raw-socket-loop.ts');
const WARMUP_MS = 400;
const WINDOW_MS = 2000;
/** Every sender stops by itself after this long, whatever happens to the bench. */
const SENDER_SECONDS = 6;
const SENDER_COUNT = 5_000_000;
const PORT = 61999;

const children = new Set<ChildProcess>();
let cLoop: CLoop | string | undefined;
const namespaces: string[] = [];
let pair: NetnsPair | undefined;

function cleanup(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
  pair?.remove();
  pair = undefined;
  for (const ns of namespaces.splice(0)) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  if (cLoop && typeof cLoop !== 'string') cLoop.remove();
  cLoop = undefined;
}

/** User and system CPU seconds of a live process, from /proc/PID/stat. */
function cpuOf(pid: number | undefined): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return undefined;
  }
}

function onSignal(signal: NodeJS.Signals): void {
  cleanup();
  process.kill(process.pid, signal);
}

/** Tcp OutRsts, of the host or of a namespace. */
function outRsts(ns?: string): number {
  const text = ns ? execFileSync('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], { encoding: 'utf8' }) : readFileSync('/proc/net/snmp', 'utf8');
  const lines = text.split('\n').filter((l) => l.startsWith('Tcp:'));
  return Number(lines[1]!.split(/\s+/)[lines[0]!.split(/\s+/).indexOf('OutRsts')]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * argv, run in `ns` (or here), on every CPU: bench/run.ts pins the bench to one core and
 * children inherit that, which would put two senders on one core.
 */
function start(ns: string | undefined, argv: string[]): ChildProcess {
  const cpus = `0-${availableParallelism() - 1}`;
  const full = ['taskset', '-c', cpus, ...argv];
  const child = ns ? spawn('ip', ['netns', 'exec', ns, ...full], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const hping3 = (ns: string | undefined, dst: string): ChildProcess =>
  start(ns, ['timeout', '-s', 'INT', String(SENDER_SECONDS), 'hping3', '--flood', '-S', '-p', String(PORT), dst]);
const synack = (ns: string | undefined, mode: 'send' | 'sendp', bytes: Buffer, iface = ''): ChildProcess =>
  start(ns, [process.execPath, '--import', 'tsx', SENDER, mode, bytes.toString('hex'), String(SENDER_SECONDS), String(SENDER_COUNT), iface]);

/** Per packet counted, CPU microseconds the (one) sender spent in user space and in the kernel. */
interface CpuSplit {
  user: number;
  system: number;
}

/** SYNs per second that reached TCP while `launch`'s processes ran, in a steady window. */
async function measure(launch: () => ChildProcess[], counter: () => number, split?: CpuSplit[]): Promise<number> {
  const kids = launch();
  // Started = first output (hping3 writes its banner to stderr, flood-sender 'sending' to stdout).
  await Promise.all(
    kids.map(
      (k) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 5000);
          const go = (): void => {
            clearTimeout(timer);
            resolve();
          };
          k.stdout!.once('data', go);
          k.stderr!.once('data', go);
          k.once('exit', (code) => reject(new Error(`sender exited early (${code}) before sending`)));
        }),
    ),
  );
  await sleep(WARMUP_MS);
  const cpu0 = split ? cpuOf(kids[0]!.pid) : undefined;
  const c0 = counter();
  const t0 = performance.now();
  await sleep(WINDOW_MS);
  const c1 = counter();
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = split ? cpuOf(kids[0]!.pid) : undefined;
  if (split && cpu0 && cpu1 && c1 > c0) split.push({ user: ((cpu1.user - cpu0.user) * 1e6) / (c1 - c0), system: ((cpu1.system - cpu0.system) * 1e6) / (c1 - c0) });
  for (const k of kids) k.kill('SIGINT');
  await Promise.all(kids.map((k) => (k.exitCode !== null || k.signalCode !== null ? undefined : new Promise((r) => k.once('exit', r)))));
  return (c1 - c0) / seconds;
}

interface Contender {
  place: string;
  name: string;
  run: () => Promise<number>;
  rates: number[];
  split?: CpuSplit[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

function ethernetFrame(dstMac: string, ip: Buffer): Buffer {
  const header = Buffer.alloc(14);
  Buffer.from(dstMac.replace(/:/g, ''), 'hex').copy(header, 0);
  header.writeUInt16BE(0x0800, 12);
  return Buffer.concat([header, ip]);
}

const syn = (src: string, dst: string): Buffer => IP({ src, dst }).add(TCP({ sport: 40000, dport: PORT, flags: 'S' })).bytes();

export async function sendRateBench(rounds = 3): Promise<void> {
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const processes = Math.min(2, availableParallelism());
  try {
    pair = createNetnsPair(`rate`);
    const { a, b } = pair;
    const macB = (JSON.parse(execFileSync('ip', ['-n', b, '-j', 'link', 'show', 'dev', 'veth-sb'], { encoding: 'utf8' })) as Array<{ address: string }>)[0]!.address;
    const c = `synack-rate-c-${process.pid}`;
    namespaces.push(c);
    execFileSync('ip', ['netns', 'add', c]);
    execFileSync('ip', ['-n', c, 'link', 'set', 'lo', 'up']);
    execFileSync('ip', ['-n', c, 'addr', 'add', '198.51.100.3/32', 'dev', 'lo']);
    execFileSync('ip', ['netns', 'exec', c, 'sysctl', '-qw', 'net.ipv4.conf.lo.accept_local=1']);

    const loSyn = syn('127.0.0.1', '127.0.0.1');
    const vethFrame = ethernetFrame(macB, syn(pair.addrA.v4, pair.addrB.v4));
    const nsLoFrame = ethernetFrame('00:00:00:00:00:00', syn('198.51.100.3', '198.51.100.3'));
    const host = (): number => outRsts();
    const inB = (): number => outRsts(b);
    const inC = (): number => outRsts(c);
    const many = (n: number, f: () => ChildProcess): ChildProcess[] => Array.from({ length: n }, f);
    const built = buildCLoop();
    cLoop = built;
    const ourSplit: CpuSplit[] = [];
    const cSplit: CpuSplit[] = [];
    const addonSplit: CpuSplit[] = [];
    const mmsgSplit: CpuSplit[] = [];
    const bounds = [loSyn.toString('hex'), String(SENDER_SECONDS), String(SENDER_COUNT)];
    const contenders: Contender[] = [
      { place: 'lo', name: 'hping3 --flood', run: () => measure(() => [hping3(undefined, '127.0.0.1')], host), rates: [] },
      { place: 'lo', name: 'synack send (raw socket)', run: () => measure(() => [synack(undefined, 'send', loSyn)], host, ourSplit), rates: [], split: ourSplit },
      { place: 'lo', name: 'raw-socket bare loop', run: () => measure(() => [start(undefined, [process.execPath, '--import', 'tsx', ADDON_LOOP, ...bounds])], host, addonSplit), rates: [], split: addonSplit },
      ...(typeof built === 'string'
        ? []
        : [
            { place: 'lo', name: 'C loop of sendto (ceiling)', run: () => measure(() => [start(undefined, [built.path, ...bounds])], host, cSplit), rates: [], split: cSplit },
            { place: 'lo', name: 'C loop of sendmmsg x64', run: () => measure(() => [start(undefined, [built.path, ...bounds, '64'])], host, mmsgSplit), rates: [], split: mmsgSplit },
          ]),
      { place: 'veth', name: 'hping3 --flood', run: () => measure(() => [hping3(a, pair!.addrB.v4)], inB), rates: [] },
      { place: 'veth', name: `hping3 --flood x${processes}`, run: () => measure(() => many(processes, () => hping3(a, pair!.addrB.v4)), inB), rates: [] },
      { place: 'veth', name: 'synack sendp (cap)', run: () => measure(() => [synack(a, 'sendp', vethFrame, 'veth-sa')], inB), rates: [] },
      { place: 'veth', name: `synack sendp (cap) x${processes}`, run: () => measure(() => many(processes, () => synack(a, 'sendp', vethFrame, 'veth-sa')), inB), rates: [] },
      { place: 'ns lo', name: 'hping3 --flood', run: () => measure(() => [hping3(c, '198.51.100.3')], inC), rates: [] },
      { place: 'ns lo', name: 'synack sendp (cap)', run: () => measure(() => [synack(c, 'sendp', nsLoFrame, 'lo')], inC), rates: [] },
    ];
    for (let round = 0; round < rounds; round++) {
      for (const k of contenders) k.rates.push(await k.run());
    }

    console.log(`\nsend rate of prebuilt SYNs to a closed port: SYNs that reached TCP per second`);
    console.log(`  (median of ${rounds} interleaved rounds, ${WINDOW_MS / 1000} s steady window each; all rounds in brackets)`);
    for (const k of contenders) {
      console.log(`  ${k.place.padEnd(6)} ${k.name.padEnd(28)} ${fmt(median(k.rates)).padStart(9)}   [${k.rates.map(fmt).join(', ')}]`);
    }
    const ratio = (place: string, name: string, peer = 'hping3 --flood'): string => {
      const ours = contenders.find((k) => k.place === place && k.name === name)!;
      const theirs = contenders.find((k) => k.place === place && k.name === peer)!;
      // Ratios within each round (the two ran seconds apart, under the same load), then the median.
      const perRound = ours.rates.map((r, i) => r / theirs.rates[i]!);
      return `${median(perRound).toFixed(2)}x   [${perRound.map((x) => x.toFixed(2)).join(', ')}]`;
    };
    console.log(`  synack / hping3 --flood, median of the per-round ratios [each round]:`);
    console.log(`    lo     send (raw socket), one process        ${ratio('lo', 'synack send (raw socket)')}`);
    console.log(`    veth   sendp (cap), one process              ${ratio('veth', 'synack sendp (cap)')}`);
    console.log(`    veth   sendp (cap), ${processes} processes             ${ratio('veth', `synack sendp (cap) x${processes}`)}`);
    console.log(`    ns lo  sendp (cap), one process              ${ratio('ns lo', 'synack sendp (cap)')}`);
    console.log(`    veth   ${processes} synack vs ${processes} hping3 processes          ${ratio('veth', `synack sendp (cap) x${processes}`, `hping3 --flood x${processes}`)}`);
    if (typeof built === 'string') console.log(`  ${built}`);
    else {
      const C = 'C loop of sendto (ceiling)';
      console.log(`  against the C loop of raw sendto on lo (target >= 0.95 for synack send), median of the per-round ratios:`);
      console.log(`    synack send, rate                            ${ratio('lo', 'synack send (raw socket)', C)}`);
      console.log(`    raw-socket bare loop, rate (addon's ceiling) ${ratio('lo', 'raw-socket bare loop', C)}`);
      console.log(`    synack send / raw-socket bare loop, rate     ${ratio('lo', 'synack send (raw socket)', 'raw-socket bare loop')}`);
      console.log(`    C loop of sendmmsg, 64 a call, rate          ${ratio('lo', 'C loop of sendmmsg x64', C)}`);
      const total = (x: CpuSplit): number => x.user + x.system;
      const us = (xs: CpuSplit[], k: keyof CpuSplit): string => (xs.length ? median(xs.map((x) => x[k])).toFixed(2) : '-');
      const all = (xs: CpuSplit[]): string => (xs.length ? median(xs.map(total)).toFixed(2) : '-');
      console.log(`  CPU per SYN counted, medians over rounds, each taken alone (µs): user, kernel, all   [all, each round]`);
      for (const [name, xs] of [['synack send', ourSplit], ['raw-socket bare loop', addonSplit], ['C loop of sendto', cSplit], ['C loop of sendmmsg x64', mmsgSplit]] as const) {
        console.log(`    ${name.padEnd(22)} ${us(xs, 'user')}, ${us(xs, 'system')}, ${all(xs)}   [${xs.map((x) => total(x).toFixed(2)).join(', ')}]`);
      }
      // SYNs per CPU-second, as a ratio: what the rates would be with a core each to themselves.
      const perCpu = (ours: CpuSplit[], theirs: CpuSplit[]): string => {
        const n = Math.min(ours.length, theirs.length);
        const perRound = Array.from({ length: n }, (_, i) => total(theirs[i]!) / total(ours[i]!));
        return n ? `${median(perRound).toFixed(2)}x   [${perRound.map((x) => x.toFixed(2)).join(', ')}]` : '-';
      };
      console.log(`  against the C loop in SYNs per CPU-second (the load-independent form of the rate ratio):`);
      console.log(`    synack send                                  ${perCpu(ourSplit, cSplit)}`);
      console.log(`    raw-socket bare loop (addon's ceiling)       ${perCpu(addonSplit, cSplit)}`);
      console.log(`    C loop of sendmmsg, 64 a call (batching's)   ${perCpu(mmsgSplit, cSplit)}`);
      console.log(`  (the kernel's share is the sendto itself, the target's RST built inside it included; the user share is what a`);
      console.log(`   sender can shave. raw-socket's per-call cost is the gap between its bare loop and C: without a batched send`);
      console.log(`   in the addon, no sender through it can close that gap; sendmmsg shows what batching itself would buy)`);
    }
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
