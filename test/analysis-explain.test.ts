/**
 * `synack read FILE --explain` names every seed scenario: each scenario runs against its real
 * kernel server (examples/lib/scenarios.ts), its trace is written as a pcap file, and the
 * notes under the lines must say what happened, in the scenario's own words, with both
 * endpoints' states. The examples' --explain (explainTrace() over the conversations' traces)
 * must print the very same notes; one example runs as a program with --explain; `synack
 * handshake --explain` and `synack script --explain` name the scenarios they drive against
 * kernel servers on 127.0.0.1. Root only (raw sockets, the kernel-RST guard).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../src/cli/packet-support.js';
import { spawnSync } from 'node:child_process';
import type net from 'node:net';
import * as S from '../examples/lib/scenarios.js';
import { explainedLines } from '../examples/lib/report.js';
import { writePcap } from '../src/pcap/pcap-writer.js';
import { ensureBuilt, freePort, serveTcp, synack } from './helpers/cli.js';
import { startServer } from './helpers/script-servers.js';

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
  // What the examples print with --explain: the same notes, from the traces themselves.
  // (Times in the notes may differ in the last digit: the pcap keeps microseconds, the trace more.)
  const ms = (lines: string[]): string[] => lines.map((l) => l.replace(/\d+(\.\d+)? ms/g, 'N ms'));
  expect(ms(notes(explainedLines(r).join('\n')))).toEqual(ms(notes(out.stdout)));
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

  it('an example run with --explain prints the notes (simultaneous close)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/simultaneous-close.ts', '--explain'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const text = r.stdout.slice(r.stdout.indexOf('-- explained'));
    expect(text).toMatch(/client opens: SYN/);
    expect(text).toMatch(/simultaneous close, both sides CLOSING/);
  });
}, 60_000);

/** Kernel servers for handshake and script: one answers 'get' and closes; one answers and waits; one closes at once. */
describe.skipIf(!root)('handshake --explain and script --explain name what they drive', () => {
  /** Note lines: they end with both states (ladders and tcpdump lines do not). */
  const notes = (text: string): string[] => text.split('\n').filter((l) => /^ {6}.*\(client [A-Z0-9-]+, server [A-Z0-9-]+\)$/.test(l));
  const servers: net.Server[] = [];
  let answersAndCloses = 0;
  let answers = 0;
  let closed = 0;
  const serve = (handler: (s: net.Socket) => void): Promise<number> => serveTcp(servers, handler, { allowHalfOpen: true });
  beforeAll(async () => {
    ensureBuilt();
    answersAndCloses = await serve((s) => s.once('data', () => s.end('200 ok')));
    answers = await serve((s) => {
      s.on('data', () => s.write('200 ok'));
      s.on('end', () => s.end());
    });
    closed = await freePort();
  });
  afterAll(() => {
    for (const s of servers) s.close();
  });

  it('handshake: open, data, the 3-packet close and TIME-WAIT; the client closing first; RST from a closed port', async () => {
    const three = notes((await synack(['handshake', `127.0.0.1:${answersAndCloses}`, '--send', 'get', '--close', 'wait', '--explain'])).stdout).join('\n');
    expect(three).toMatch(/client opens: SYN, ISN \d+, offers mss 1460.*\(the three-way handshake begins\)/);
    expect(three).toMatch(/the three-way handshake is complete/);
    expect(three).toMatch(/client sends 3 bytes 'get' \(data, 1:4\)/);
    expect(three).toMatch(/server closes first/);
    expect(three).toMatch(/three-packet close|4-packet close/);
    expect(three).toMatch(/the server waits in TIME-WAIT/);
    const first = notes((await synack(['handshake', `127.0.0.1:${answers}`, '--send', 'get', '--close', 'active', '--explain'])).stdout).join('\n');
    expect(first).toMatch(/client closes first/);
    expect(first).toMatch(/the client waits in TIME-WAIT.*\(client TIME-WAIT, server CLOSED\)/);
    const rst = await synack(['handshake', `127.0.0.1:${closed}`, '--explain']);
    expect(rst.code).toBe(1);
    expect(notes(rst.stdout).at(-1)).toMatch(/nothing listens on 127\.0\.0\.1:\d+: the kernel answers RST \(RST from a closed port\)/);
  });

  it('script: the notes under each line of a run (the 3-packet close script against its server)', async () => {
    const server = await startServer('get-close');
    try {
      const r = await synack(['script', 'examples/scripts/handshake-3way-close.pkt', '--target', `127.0.0.1:${server.port}`, '--explain']);
      expect(r.code, r.stderr).toBe(0);
      const text = notes(r.stdout).join('\n');
      expect(text).toMatch(/client opens: SYN/);
      expect(text).toMatch(/the three-way handshake is complete/);
      expect(text).toMatch(/server closes first/);
      expect(text).toMatch(/three-packet close/);
      expect(text).toMatch(/the server waits in TIME-WAIT/);
    } finally {
      await server.close();
    }
  });
}, 60_000);
