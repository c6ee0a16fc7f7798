/**
 * tshark 4.0's "ACKed unseen segment" rule, pinned on crafted captures: the sender's segment
 * the capture missed, and the ACKs that cover it in every order against what the sender does
 * next (more data past the hole, a retransmission, a window update, duplicate ACKs of its own,
 * an ACK that moves, sequence numbers that wrap). Each scenario is one stream of one capture
 * file (one tshark run per flag for all of them); every column of every frame must equal
 * tshark's. Pure: the capture is written here, nothing is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../src/cli/packet-support.js';
import { Ether, IP, TCP, writePcap } from '../src/index.js';
import { compareColumns, haveTshark } from './helpers/tshark.js';

if (!haveTshark()) {
  if (process.env.CI === 'true') throw new Error('tshark is missing: CI must install it (.ci/run)');
  console.log('analysis-corner test skipped: tshark is not installed');
}

/**
 * Steps after the handshake, one per segment: `c:SEQ[:LEN][aACK][wWIN][F]` from the client,
 * `s:...` from the server, relative numbers; a leading '-' means the capture missed it.
 */
const SCENARIOS: Array<[string, string, number?]> = [
  ['the ACK of a missed segment, then data past the hole', 'c:1:100 -c:101:100 s:1a201 c:201:100 s:1a301'],
  ['its duplicate before the sender moves on: said once', 'c:1:100 -c:101:100 s:1a201 s:1a201 c:201:100 s:1a301'],
  ['three ACKs of it, then data past the hole', 'c:1:100 -c:101:100 s:1a201 s:1a201 s:1a201 c:201:100 s:1a301'],
  ['data past the hole before any ACK', 'c:1:100 -c:101:100 c:201:100 s:1a301 c:301:100'],
  ['a duplicate after data past the hole: said again', 'c:1:100 -c:101:100 s:1a201 c:201:100 s:1a201'],
  ['the next ACK carries data', 'c:1:100 -c:101:100 s:1:50a201 s:51:50a201'],
  ['the next ACK is a window update', 'c:1:100 -c:101:100 s:1a201 s:1a201w2000'],
  ['the sender sends a window update meanwhile', 'c:1:100 -c:101:100 s:1a201 c:101a1w2000 s:1a201'],
  ['the sender sends duplicate ACKs meanwhile', 'c:1:100 -c:101:100 s:1a201 c:101a1 c:101a1 s:1a201 c:201:100 s:1a301'],
  ['the sender had sent duplicate ACKs before: not said', 'c:1:100 -c:101:100 c:101a1 c:101a1 s:1a201'],
  ['a spurious retransmission meanwhile', 'c:1:100 -c:101:100 s:1a201 c:1:100 s:1a201'],
  ['a retransmission that fills the hole, then a new hole', 'c:1:100 -c:101:100 s:1a201 c:101:100 c:201:100 -c:301:100 s:1a401'],
  ['the same, then data past the new hole', 'c:1:100 -c:101:100 s:1a201 c:101:100 c:201:100 -c:301:100 c:401:100 s:1a501'],
  ["the sender's own ACK moves meanwhile", 'c:1:100 -c:101:100 s:1a201 s:1:50a201 c:101a51 s:51a201'],
  ['a FIN past the hole', 'c:1:100 -c:101:100 s:1a201 c:201F s:1a202'],
  ['a hole on the ACKing side too', 'c:1:100 -c:101:100 s:1a201 -s:1:100 s:101a201'],
  ['after duplicate ACKs, data past two holes, ACKs inside and beyond', 'c:1:100 c:101a1 c:101a1 -c:101:100 -c:201:100 c:301:100 s:1a201 s:1a301 s:1a401'],
  ['the same with sequence numbers wrapping past 2^32', 'c:1:100 c:101a1 c:101a1 -c:101:100 -c:201:100 c:301:100 s:1a201 s:1a301 s:1a401', 2 ** 32 - 250],
  ['duplicate ACKs of the sender, then a hole: #n goes on', 'c:1:100 c:101a1 c:101a1 -c:101:100 c:201:100 c:301a1'],
];

function writeScenarios(path: string): void {
  const w = writePcap(path, { linkType: 'ether' });
  let time = 1_700_000_000_000_000;
  SCENARIOS.forEach(([, steps, isn], i) => {
    const clientIsn = isn ?? 1000 + i * 100_000;
    const serverIsn = 5000 + i * 100_000;
    const sport = 40000 + i;
    const seg = (fromClient: boolean, flags: string, seq: number, ack: number, len: number, window: number) => {
      const p = Ether()
        .add(IP({ src: fromClient ? '192.0.2.1' : '192.0.2.2', dst: fromClient ? '192.0.2.2' : '192.0.2.1' }))
        .add(TCP({ sport: fromClient ? sport : 80, dport: fromClient ? 80 : sport, seq: ((fromClient ? clientIsn : serverIsn) + seq) >>> 0, ack: flags === 'S' ? 0 : ((fromClient ? serverIsn : clientIsn) + ack) >>> 0, flags, window }));
      return len ? p.add(Buffer.alloc(len, 0x61)) : p;
    };
    const emit = (p: ReturnType<typeof seg>, missed = false) => {
      time += 1000;
      if (!missed) w.write(p, time);
    };
    emit(seg(true, 'S', 0, 0, 0, 1000));
    emit(seg(false, 'SA', 0, 1, 0, 1000));
    emit(seg(true, 'A', 1, 1, 0, 1000));
    for (const step of steps.split(' ')) {
      const m = /^(-?)([cs]):(\d+)(?::(\d+))?(?:a(\d+))?(?:w(\d+))?(F?)$/.exec(step);
      if (!m) throw new Error(`bad step ${step}`);
      emit(seg(m[2] === 'c', `${m[7]}A`, Number(m[3]), Number(m[5] ?? 1), Number(m[4] ?? 0), Number(m[6] ?? 1000)), m[1] === '-');
    }
  });
  w.close();
}

describe.skipIf(!haveTshark())('ACKed unseen segment, as tshark 4.0 says it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-corner-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every column of every frame of every scenario equals tshark', () => {
    const file = join(dir, 'corner.pcap');
    writeScenarios(file);
    const { ours, theirs } = compareColumns(file);
    // Grouped by stream, each line named by its scenario, so a failure says which one broke.
    const named = (lines: string[]) => lines.map((l) => `${SCENARIOS[Number(l.split(' ')[1])]?.[0]}: ${l}`);
    expect(theirs.length).toBeGreaterThan(SCENARIOS.length * 6);
    expect(theirs.some((l) => l.includes('ack_lost_segment'))).toBe(true);
    expect(named(ours)).toEqual(named(theirs));
  });
});
