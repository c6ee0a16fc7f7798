/**
 * The analyzer's memory is flat in packets: it keeps only the streams open at once, and a
 * stream that ends (both FINs acknowledged, or a RST) is dropped from the open table with its
 * unacknowledged segments. Pure: segments built with synack's builder, fed as frames; no root,
 * no network, no oracle.
 */
import { describe, expect, it } from 'vitest';
import { Analyzer, frameOf, IP, TCP, type Packet } from '../src/index.js';

const SERVER = '198.51.100.1';

/** One stream's segments, step by step: handshake, `segments` data segments each ACKed, then a 4-way close or a RST. */
function* streamSteps(n: number, segments: number, end: 'fin' | 'rst'): Generator<Packet[]> {
  const client = `198.51.100.${2 + (n % 200)}`;
  const sport = 10000 + (n % 50000);
  const c = (flags: string, seq: number, ack: number, data?: Buffer): Packet => {
    const p = IP({ src: client, dst: SERVER }).add(TCP({ sport, dport: 443, seq, ack, flags, window: 1024 }));
    return data ? p.add(data) : p;
  };
  const s = (flags: string, seq: number, ack: number): Packet => IP({ src: SERVER, dst: client }).add(TCP({ sport: 443, dport: sport, seq, ack, flags, window: 1024 }));
  let cs = 1000 + n;
  const ss = 5000 + n;
  yield [c('S', cs, 0), s('SA', ss, cs + 1), c('A', cs + 1, ss + 1)];
  cs++;
  for (let i = 0; i < segments; i++) {
    yield [c('PA', cs, ss + 1, Buffer.alloc(100, 0x61)), s('A', ss + 1, cs + 100)];
    cs += 100;
  }
  if (end === 'rst') yield [c('R', cs, 0)];
  else yield [c('FA', cs, ss + 1), s('FA', ss + 1, cs + 1), c('A', cs + 1, ss + 2)];
}

describe('analyzer memory', () => {
  it('a stream that ends is dropped: open streams return to 0 after every close, FIN or RST', () => {
    const a = new Analyzer();
    let frames = 0;
    for (let n = 0; n < 50; n++) {
      for (const step of streamSteps(n, 5, n % 2 ? 'rst' : 'fin')) {
        for (const p of step) {
          const s = a.add({ ...frameOf(p), seconds: frames, nanos: 0 });
          frames++;
          expect(s?.stream).toBe(n);
        }
        expect(a.openStreams).toBeLessThanOrEqual(1);
      }
      expect(a.openStreams).toBe(0);
      expect(a.lastStream!.ended).toBe(true);
      expect(a.lastStream!.c2s.segmentCount + a.lastStream!.s2c.segmentCount).toBe(0);
    }
    expect(a.streamCount).toBe(50);
  });

  it('with many streams interleaved, open streams never exceed those open at once', () => {
    const a = new Analyzer();
    const open = 100;
    let next = 0;
    const running: Array<Generator<Packet[]>> = [];
    for (; next < open; next++) running.push(streamSteps(next, 8, next % 3 ? 'fin' : 'rst'));
    let frames = 0;
    let peak = 0;
    // Round-robin over the open streams, starting a new one where one ends: 2000 streams in all.
    for (let i = 0; running.length; i = (i + 1) % Math.max(1, running.length)) {
      const step = running[i]!.next();
      if (step.done) {
        if (next < 2000) running[i] = streamSteps(next++, 8, next % 3 ? 'fin' : 'rst');
        else running.splice(i, 1);
        continue;
      }
      for (const p of step.value) a.add({ ...frameOf(p), seconds: Math.floor(frames / 1000), nanos: (frames++ % 1000) * 1000 });
      peak = Math.max(peak, a.openStreams);
    }
    expect(a.streamCount).toBe(2000);
    expect(peak).toBeLessThanOrEqual(open);
    expect(a.openStreams).toBe(0);
  });

  it('a late segment of a stream that ended still gets its index', () => {
    const a = new Analyzer();
    const steps = [...streamSteps(7, 2, 'fin')];
    for (const step of steps) for (const p of step) a.add(frameOf(p));
    expect(a.openStreams).toBe(0);
    const late = a.add(frameOf(steps.at(-1)!.at(-1)!));
    expect(late?.stream).toBe(0);
  });
});
