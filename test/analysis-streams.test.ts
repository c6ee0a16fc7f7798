/**
 * The StreamIndexer's tcp.stream numbers against tshark 4.0's (`-T fields -e tcp.stream`) on
 * captures written here: thousands of streams interleaved over few address and port pairs, so
 * that 4-tuples are reused again and again, in every way the numbering rules tell apart:
 *   - a new SYN (new ISN) after a FIN or RST close: a new stream
 *   - a retransmitted SYN (same ISN): the same stream
 *   - a simultaneous open (both sides send a SYN): one stream
 *   - a stream picked up mid-way (no handshake, first segment from either side), then a SYN
 *     from either side: the base seq of a direction that began without SYN, or that only an ACK
 *     set, decides
 *   - a SYN-ACK with another ISN on a reused tuple: the same stream, and that ISN the base seq
 *     of its direction from then on (for the next SYN, and the relative numbers)
 *   - the same ports with the addresses swapped (a different tuple), IPv4 and IPv6, UDP and
 *     ARP frames between (every frame counts in the numbering of frames)
 * Thousands of tuples also make the indexer's table grow and rehash. The conversations the
 * numbers feed must print as `tshark -q -z conv,tcp` does. Pure: nothing is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../src/cli/packet-support.js';
import { ARP, Ether, IP, IPv6, TCP, UDP, writePcap } from '../src/index.js';
import type { Packet } from '../src/index.js';
import { conversations, formatConversations } from '../src/analysis/index.js';
import { decodeFrame, FrameView, Transport } from '../src/analysis/frame.js';
import { StreamIndexer } from '../src/analysis/streams.js';
import { readPcapSync } from '../src/pcap/read.js';
import { compareColumns, haveTshark, tshark } from './helpers/tshark.js';

if (!haveTshark()) {
  if (process.env.CI === 'true') throw new Error('tshark is missing: CI must install it (.ci/run)');
  console.log('analysis-streams test skipped: tshark is not installed');
}

/** A small seeded generator (xorshift32): the same capture every run. */
function generator(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

type Kind = 'normal' | 'rst' | 'synRetransmit' | 'simultaneous' | 'midway' | 'midwayServer' | 'synAckOther';
const KINDS: Kind[] = ['normal', 'normal', 'rst', 'synRetransmit', 'simultaneous', 'midway', 'midwayServer', 'synAckOther'];

/** One flow's frames, in order, for the flow's tuple: steps the writer interleaves with other flows'. */
function flowSteps(kind: Kind, rand: (n: number) => number, seg: (fromClient: boolean, flags: string, seq: number, ack: number, len?: number) => Packet): Packet[] {
  let c = rand(0xffffffff);
  let s = rand(0xffffffff);
  const out: Packet[] = [];
  const data = (n: number): void => {
    for (let i = 0; i < n; i++) {
      out.push(seg(true, 'PA', c, s, 100));
      c = (c + 100) >>> 0;
      out.push(seg(false, 'A', s, c));
    }
  };
  const close = (): void => {
    out.push(seg(true, 'FA', c, s), seg(false, 'FA', s, (c + 1) >>> 0), seg(true, 'A', (c + 1) >>> 0, (s + 1) >>> 0));
  };
  const open = (): void => {
    out.push(seg(true, 'S', c, 0), seg(false, 'SA', s, (c + 1) >>> 0));
    c = (c + 1) >>> 0;
    s = (s + 1) >>> 0;
    out.push(seg(true, 'A', c, s));
  };
  switch (kind) {
    case 'normal':
      open();
      data(1 + rand(3));
      close();
      break;
    case 'rst':
      open();
      data(rand(3));
      out.push(seg(rand(2) === 0, 'R', c, 0));
      break;
    case 'synRetransmit':
      out.push(seg(true, 'S', c, 0), seg(true, 'S', c, 0));
      out.push(seg(false, 'SA', s, (c + 1) >>> 0));
      c = (c + 1) >>> 0;
      s = (s + 1) >>> 0;
      out.push(seg(true, 'A', c, s));
      data(1);
      close();
      break;
    case 'simultaneous':
      out.push(seg(true, 'S', c, 0), seg(false, 'S', s, 0), seg(true, 'SA', c, (s + 1) >>> 0), seg(false, 'SA', s, (c + 1) >>> 0));
      c = (c + 1) >>> 0;
      s = (s + 1) >>> 0;
      data(1);
      close();
      break;
    case 'midway':
      // Picked up inside the transfer: the client's base is seq - 1, the server's ack - 1.
      data(2);
      close();
      break;
    case 'midwayServer': {
      // The server's segment first, its ACK the client's base (ack - 1); then a SYN: from the
      // server with a new ISN (a new stream), from the client at that base (not new), or from
      // the client with another ISN (new, for the base the server's ACK set).
      out.push(seg(false, 'PA', s, c, 50));
      s = (s + 50) >>> 0;
      const pick = rand(3);
      if (pick === 0) out.push(seg(false, 'S', rand(0xffffffff), 0));
      else out.push(seg(true, 'S', pick === 1 ? (c - 1) >>> 0 : rand(0xffffffff), 0));
      data(1);
      break;
    }
    case 'synAckOther':
      open();
      // A SYN-ACK with another ISN (Wireshark flags the reuse but keeps the stream).
      out.push(seg(false, 'SA', rand(0xffffffff), c));
      data(1);
      close();
      break;
  }
  return out;
}

/**
 * Flows on `tuples` 4-tuples, `open` at a time, `flows` in all; a tuple is reused only once its
 * last flow has sent everything, unless `overlap` (then flows on one tuple interleave: SYNs and
 * SYN-ACKs of one amid another's segments). IPv6 for one tuple in eight, a UDP datagram or an ARP frame
 * now and then.
 */
function writeCapture(path: string, seed: number, flows: number, open: number, tuples: number, overlap: boolean): void {
  const rand = generator(seed);
  const w = writePcap(path, { linkType: 'ether' });
  let time = 1_700_000_000_000_000;
  const emit = (p: Packet): void => {
    time += 1 + rand(50);
    w.write(p, time);
  };
  const busy = new Set<number>();
  const active: Array<{ steps: Packet[]; at: number; tuple: number }> = [];
  let started = 0;
  const start = (): void => {
    let t = rand(tuples);
    while (!overlap && busy.has(t)) t = (t + 1) % tuples;
    busy.add(t);
    // Two hosts, and each port pair twice, the addresses swapped (another tuple): tuple t is
    // ports (40002 + t / 2, 40001) from host t % 2 to the other, so no two share a tuple.
    const v6 = t % 8 >= 6;
    const hostA = t % 2;
    const hostB = 1 - hostA;
    const addr = (h: number): string => (v6 ? `2001:db8::${h + 1}` : `198.51.100.${h + 1}`);
    const sport = 40002 + (t >> 1);
    const dport = 40001;
    const seg = (fromClient: boolean, flags: string, seq: number, ack: number, len = 0): Packet => {
      const ip = v6 ? IPv6({ src: addr(fromClient ? hostA : hostB), dst: addr(fromClient ? hostB : hostA) }) : IP({ src: addr(fromClient ? hostA : hostB), dst: addr(fromClient ? hostB : hostA) });
      const tcp = TCP({ sport: fromClient ? sport : dport, dport: fromClient ? dport : sport, seq, ack, flags, window: 512 });
      const p = Ether().add(ip).add(tcp);
      return len ? p.add(Buffer.alloc(len, 0x62)) : p;
    };
    active.push({ steps: flowSteps(KINDS[rand(KINDS.length)]!, rand, seg), at: 0, tuple: t });
    started++;
  };
  while (started < Math.min(open, flows)) start();
  while (active.length) {
    const i = rand(active.length);
    const f = active[i]!;
    emit(f.steps[f.at++]!);
    if (rand(40) === 0) emit(Ether().add(IP({ src: '198.51.100.9', dst: '198.51.100.1' })).add(UDP({ sport: 53, dport: 5353 })).add(Buffer.from('x')));
    if (rand(200) === 0) emit(Ether({ dst: 'ff:ff:ff:ff:ff:ff' }).add(ARP({ psrc: '198.51.100.1', pdst: '198.51.100.2' })));
    if (f.at === f.steps.length) {
      busy.delete(f.tuple);
      active.splice(i, 1);
      if (started < flows) start();
    }
  }
  w.close();
}

/** "frame stream" per TCP frame, by the indexer. */
function indexerStreams(file: string): string[] {
  const ix = new StreamIndexer();
  const v = new FrameView();
  const out: string[] = [];
  let frame = 0;
  for (const rec of readPcapSync(file)) {
    frame++;
    if (decodeFrame(rec.data, 0, rec.data.length, rec.linkType, v) && v.transport === Transport.TCP && !v.short) out.push(`${frame} ${ix.add(v)}`);
  }
  return out;
}

function tsharkStreams(file: string): string[] {
  return tshark(['-r', file, '-Y', 'tcp', '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.stream'])
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace('\t', ' '));
}

/**
 * A SYN-ACK with another ISN on a tuple whose direction has its base seq: tshark 4.0 keeps the
 * stream and makes that ISN the direction's base, which the next SYN is judged by. Each
 * scenario on its own client port: [from client, flags, seq, ack, payload bytes].
 */
const SYN_ACK_SCENARIOS: Array<Array<[boolean, string, number, number, number?]>> = [
  // From the client's side: its base moves, so its old ISN opens a new stream.
  [[true, 'S', 1000, 0], [true, 'SA', 5000, 77], [true, 'S', 1000, 0]],
  // From the server's: its first ISN is no longer its base (a new stream), the second is.
  [[true, 'S', 1000, 0], [false, 'SA', 9000, 1001], [false, 'SA', 7000, 1001], [false, 'S', 9000, 0]],
  [[true, 'S', 1000, 0], [false, 'SA', 9000, 1001], [false, 'SA', 7000, 1001], [false, 'S', 7000, 0]],
  // Data on both bases: the relative numbers after it count from the new one.
  [[true, 'S', 1000, 0], [false, 'SA', 9000, 1001], [true, 'A', 1001, 9001], [true, 'PA', 1001, 9001, 10], [false, 'SA', 7000, 1011], [false, 'PA', 7001, 1011, 20], [true, 'A', 1011, 7021], [false, 'PA', 9001, 1011, 5], [true, 'A', 1011, 9006]],
];

function writeSynAckScenarios(path: string): void {
  const w = writePcap(path, { linkType: 'ether' });
  let time = 1_700_000_000_000_000;
  SYN_ACK_SCENARIOS.forEach((steps, i) => {
    for (const [c, flags, seq, ack, len] of steps) {
      const p = Ether()
        .add(IP({ src: c ? '198.51.100.1' : '198.51.100.2', dst: c ? '198.51.100.2' : '198.51.100.1' }))
        .add(TCP({ sport: c ? 30000 + i : 80, dport: c ? 80 : 30000 + i, flags, seq, ack }));
      w.write(len ? p.add(Buffer.alloc(len, 0x61)) : p, (time += 1000));
    }
  });
  w.close();
}

describe.skipIf(!haveTshark())('StreamIndexer numbers TCP streams as tshark 4.0 does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-streams-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    // Few tuples, much reuse; then many tuples (the table grows past its first size).
    ['port reuse on 60 tuples', 1, 1500, 20, 60, false],
    ['5000 streams on 2400 tuples', 2, 5000, 300, 2400, false],
    ['flows overlapping on 40 tuples', 3, 1500, 100, 40, true],
  ] as const)('%s: every frame\'s tcp.stream, and conv,tcp', (_name, seed, flows, open, tuples, overlap) => {
    const file = join(dir, `streams-${seed}.pcap`);
    writeCapture(file, seed, flows, open, tuples, overlap);
    const theirs = tsharkStreams(file);
    const ours = indexerStreams(file);
    expect(ours.length).toBe(theirs.length);
    // The capture does what it is for: tuples reused (more streams than tuples, over twice), and
    // flows picked up mid-way on a used tuple that continue its last stream (fewer than flows).
    const count = new Set(theirs.map((l) => l.split(' ')[1])).size;
    expect(count).toBeGreaterThan(Math.min(2 * tuples, flows / 2));
    expect(count).toBeLessThan(flows);
    // Where they first differ, a few frames (a diff of the whole list is slow to print).
    const at = Math.max(0, ours.findIndex((l, i) => l !== theirs[i]));
    expect(ours.slice(at, at + 8)).toEqual(theirs.slice(at, at + 8));
    expect(formatConversations('tcp', conversations(file, ['tcp']).tcp)).toBe(tshark(['-r', file, '-q', '-z', 'conv,tcp']));
  });

  it('a SYN-ACK with another ISN moves its direction\'s base seq: tcp.stream, and every column of the analyzer', () => {
    const file = join(dir, 'syn-ack.pcap');
    writeSynAckScenarios(file);
    const theirs = tsharkStreams(file);
    // More streams than scenarios: the moved base opened new ones.
    expect(new Set(theirs.map((l) => l.split(' ')[1])).size).toBe(SYN_ACK_SCENARIOS.length + 2);
    expect(indexerStreams(file)).toEqual(theirs);
    const columns = compareColumns(file);
    expect(columns.ours).toEqual(columns.theirs);
  });
});
