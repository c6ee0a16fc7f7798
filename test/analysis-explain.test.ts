/**
 * `synack read FILE --explain` names every seed scenario: each scenario runs against its real
 * kernel server (examples/lib/scenarios.ts), its trace is written as a pcap file, and the
 * notes under the lines must say what happened, in the scenario's own words, with both
 * endpoints' states. Root only (raw sockets, the kernel-RST guard).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/cli/packet-support.js';
import * as S from '../examples/lib/scenarios.js';
import { writePcap } from '../src/pcap/pcap-writer.js';
import { ensureBuilt, synack } from './helpers/cli.js';

const root = process.getuid?.() === 0;
if (!root) console.log('explain test skipped: it needs root (raw sockets)');

const dir = mkdtempSync(join(tmpdir(), 'synack-explain-'));

async function explained(name: string, scenario: () => Promise<S.ScenarioResult>): Promise<string> {
  const r = await scenario();
  const file = join(dir, `${name}.pcap`);
  const w = writePcap(file, { linkType: 'ip' });
  const packets = r.conversations.flatMap((c) => c.trace.map((e) => e.packet)).sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  for (const p of packets) w.write(p);
  w.close();
  const out = await synack(['read', file, '--explain']);
  expect(out.code, out.stderr).toBe(0);
  return out.stdout;
}

/** The note lines only. */
const notes = (text: string): string[] => text.split('\n').filter((l) => l.startsWith('      '));

describe.skipIf(!root)('--explain names each seed scenario', () => {
  beforeAll(() => ensureBuilt());
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('3-way open and data (every scenario with a handshake)', async () => {
    const text = notes(await explained('three-packet', S.threePacketClose));
    expect(text[0]).toMatch(/client opens: SYN, ISN \d+, offers mss \d+.*\(the three-way handshake begins\)  \(client SYN-SENT, server /);
    expect(text[1]).toMatch(/server accepts: SYN-ACK, ISN \d+, acks the SYN/);
    expect(text[2]).toMatch(/the three-way handshake is complete .*\(client ESTABLISHED, server ESTABLISHED\)/);
    expect(text.join('\n')).toMatch(/client sends 3 bytes 'get' \(data, 1:4\)/);
    expect(text.join('\n')).toMatch(/server sends 6 bytes '200 ok'/);
    expect(text.join('\n')).toMatch(/three-packet close/);
    expect(text.at(-1)).toMatch(/the last ACK; the server waits in TIME-WAIT.*\(client CLOSED, server TIME-WAIT\)/);
  });

  it('4-packet close', async () => {
    const text = notes(await explained('four-packet', S.fourPacketClose)).join('\n');
    expect(text).toMatch(/server closes first/);
    expect(text).toMatch(/client acks server's FIN alone \(a 4-packet close.*\(client CLOSE-WAIT, server FIN-WAIT-2\)/);
    expect(text).toMatch(/\(client LAST-ACK, server TIME-WAIT\)/);
  });

  it('TIME-WAIT on the client that closed first', async () => {
    const text = notes(await explained('client-first', S.clientClosesFirst)).join('\n');
    expect(text).toMatch(/client closes first/);
    expect(text).toMatch(/the client waits in TIME-WAIT.*\(client TIME-WAIT, server CLOSED\)/);
  });

  it('simultaneous close (CLOSING)', async () => {
    const text = notes(await explained('simultaneous', S.simultaneousClose)).join('\n');
    expect(text).toMatch(/simultaneous close, both sides CLOSING/);
    expect(text).toMatch(/CLOSING/);
  });

  it('CLOSE-WAIT left by a server that never closes', async () => {
    const text = notes(await explained('close-wait', S.closeWaitLeft)).join('\n');
    expect(text).toMatch(/server, server CLOSE-WAIT\)|server CLOSE-WAIT\)/);
    expect(text).toMatch(/it sat in CLOSE-WAIT/);
  });

  it('TIME-WAIT on the server that closed first', async () => {
    const text = notes(await explained('time-wait', S.timeWaitOnFirstCloser)).join('\n');
    expect(text).toMatch(/server waits in TIME-WAIT/);
  });

  it('RST from a closed port, and from a port bound but not listening', async () => {
    for (const [name, scenario] of [
      ['closed', S.synToClosedPort],
      ['bound', S.boundNotListening],
    ] as const) {
      const text = notes(await explained(name, scenario));
      expect(text.at(-1)).toMatch(/nothing listens on 127\.0\.0\.1:\d+: the kernel answers RST \(RST from a closed port\)  \(client CLOSED, server /);
    }
  });

  it('full backlog: retransmitted SYN-ACKs and dropped SYNs', async () => {
    const text = notes(await explained('backlog', S.fullBacklog)).join('\n');
    expect(text).toMatch(/\[TCP Retransmission\] server retransmits its SYN-ACK after \d+ ms: .*full backlog/);
    expect(text).toMatch(/\[TCP Retransmission\] retransmission of the SYN after \d+ ms: .*full backlog/);
  });
}, 60_000);
