/**
 * Several named connections in one script, against the real kernel on loopback (root: raw
 * sockets, capture, the kernel-RST guard). Connecting: two clients of one Node server, each
 * its own source port and ISNs, lines interleaved (one closes while the other sends).
 * Listening: two real clients (one Python process) matched to the names in the order of the
 * script's SYN lines. Mutated copies fail naming the connection, the line and the field; the
 * guard covers every connection's 4-tuple during the run and nothing is left after it. Also
 * every listening-role script of the library passes against its client.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import '../src/index.js';
import { parseScript } from '../src/script/parse.js';
import { runScript, type RunOptions, type RunResult } from '../src/script/runner.js';
import { ScriptSession } from '../src/script/session.js';
import { flushGuards } from '../src/tcp/guard.js';
import { TCPLayer } from '../src/layers/tcp.js';
import { LISTEN_CLIENTS, startServer } from './helpers/script-servers.js';
import { cli } from './helpers/script-cli.js';

const LIBRARY = join(import.meta.dirname, '..', 'examples', 'scripts');
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('script-connections-live.test: skipped: raw sockets, captures and the kernel-RST guard need root');

const run$ = promisify(execFile);
const library = (name: string): string => readFileSync(join(LIBRARY, `${name}.pkt`), 'utf8');
const TABLE = `synack_${process.pid}`;
const ourTable = async (): Promise<string> => (await run$('nft', ['list', 'table', 'inet', TABLE]).catch(() => ({ stdout: '' }))).stdout;
const tables = async (): Promise<string> => (await run$('nft', ['list', 'tables'])).stdout;

/** The script with the line that starts with `prefix` changed by `edit`; returns it and the line number. */
function mutate(text: string, prefix: string, edit: (line: string) => string): { text: string; line: number } {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(prefix));
  if (i < 0) throw new Error(`no line starting '${prefix}'`);
  lines[i] = edit(lines[i]!);
  return { text: lines.join('\n'), line: i + 1 };
}

/** Source ports of our segments on each connection. */
function portsByConnection(r: RunResult, ours: 'sport' | 'dport'): Map<string | undefined, Set<number>> {
  const ports = new Map<string | undefined, Set<number>>();
  for (const t of r.trace) {
    if (t.entry.direction !== 'out') continue;
    const set = ports.get(t.connection) ?? new Set<number>();
    set.add(t.entry.packet.layer(TCPLayer).get(ours));
    ports.set(t.connection, set);
  }
  return ports;
}

let nextPort = 43000 + (process.pid % 4000);
const freshPort = (): number => nextPort++;

describe.skipIf(!isRoot)('several named connections against the kernel', () => {
  const pcaps: string[] = [];
  afterAll(() => {
    for (const p of pcaps) rmSync(p, { force: true });
  });
  const keep = (r: RunResult): RunResult => {
    if (r.pcapPath) pcaps.push(r.pcapPath);
    return r;
  };

  async function connecting(text: string, extra: Partial<RunOptions> = {}): Promise<{ r: RunResult; port: number }> {
    const server = await startServer('get-keep');
    try {
      const r = await runScript(parseScript(text, 'two-clients.pkt'), { target: `127.0.0.1:${server.port}`, ...extra });
      return { r: keep(r), port: server.port };
    } finally {
      await server.close();
    }
  }

  async function listening(name: string, text = library(name), extra: Partial<RunOptions> = {}): Promise<RunResult> {
    const port = freshPort();
    return keep(await runScript(parseScript(text, `${name}.pkt`), { listen: { port }, client: LISTEN_CLIENTS[name]!(port), ...extra }));
  }

  describe('connecting: two clients of one server, one closing while the other sends', () => {
    it('passes two-clients.pkt: a source port each, every 4-tuple guarded during the run, nothing left after', async () => {
      let during: Promise<string> | undefined;
      let seen = 0;
      const { r, port } = await connecting(library('two-clients'), {
        // Both handshakes done (six segments), read the guard's table while the run goes on. Not
        // sooner: spawning nft stalls this process for tens of ms, which would make the SYN-ACK late.
        onSegment: () => {
          if (++seen >= 6) during ??= ourTable();
        },
      });
      expect(r.failure?.message).toBeUndefined();
      expect(r.connections).toEqual(['a', 'b']);
      const ports = portsByConnection(r, 'sport');
      expect([...ports.keys()]).toEqual(['a', 'b']);
      const [a, b] = [[...ports.get('a')!], [...ports.get('b')!]];
      expect(a).toHaveLength(1);
      expect(b).toHaveLength(1);
      expect(a[0]).not.toBe(b[0]);
      // Each connection numbered from its own ISN: both SYNs are '0:0(0)' in the script, not on the wire.
      const syns = r.trace.filter((t) => t.entry.direction === 'out' && t.entry.packet.layer(TCPLayer).flagBits === 0x02);
      expect(syns.map((t) => t.connection)).toEqual(['a', 'b']);
      const table = await during!;
      for (const sport of [a[0], b[0]]) expect(table, table).toContain(`127.0.0.1 . ${sport} . 127.0.0.1 . ${port}`);
      await flushGuards();
      expect(await tables()).not.toContain(TABLE);
    });

    it("fails a copy with b's answer mutated, naming connection b, the line and the field", async () => {
      const m = mutate(library('two-clients'), '*      b > P. 1:7(6) ack 4', (l) => l.replace('ack 4', 'ack 5'));
      const { r } = await connecting(m.text, { pcapOnFailure: false });
      expect(r.failure?.line).toBe(m.line);
      expect(r.failure?.connection).toBe('b');
      expect(r.failure?.field).toBe('ack');
      expect(r.failure?.message.split('\n')[0]).toBe(`script line ${m.line}, connection b: expected ack 5, got ack 4`);
      await flushGuards();
      expect(await tables()).not.toContain(TABLE);
    });

    it("fails a copy with a's FIN mutated, naming connection a", async () => {
      const m = mutate(library('two-clients'), '*      a > F. 7:7(0) ack 5', (l) => l.replace('F. 7:7(0)', 'F. 8:8(0)'));
      const { r } = await connecting(m.text, { pcapOnFailure: false });
      expect(r.failure?.line).toBe(m.line);
      expect(r.failure?.connection).toBe('a');
      expect(r.failure?.field).toBe('seq');
      expect(r.failure?.message.split('\n')[0]).toBe(`script line ${m.line}, connection a: expected seq 8, got seq 7`);
    });
  });

  describe('listening: two real clients, matched to names in the order of the SYN lines', () => {
    it('passes listen-two-clients.pkt: a client port each, the port guard gone once both are in, nothing left after', async () => {
      let during: Promise<string> | undefined;
      let seen = 0;
      const port = freshPort();
      const r = keep(await runScript(parseScript(library('listen-two-clients'), 'listen-two-clients.pkt'), {
        listen: { port },
        client: LISTEN_CLIENTS['listen-two-clients']!(port),
        // Both handshakes done (six segments): read the guard's table while the run goes on.
        onSegment: () => {
          if (++seen >= 6) during ??= ourTable();
        },
      }));
      expect(r.failure?.message).toBeUndefined();
      expect(r.connections).toEqual(['a', 'b']);
      expect(r.trace[0]!.seconds).toBe(0);
      expect(r.trace[0]!.connection).toBe('a');
      const ports = portsByConnection(r, 'dport');
      expect([...ports.keys()].sort()).toEqual(['a', 'b']);
      expect([...ports.get('a')!][0]).not.toBe([...ports.get('b')!][0]);
      // The first client to connect is a: its SYN is the first segment, b's the first of b's.
      const inSyn = (c: string) => r.trace.find((t) => t.connection === c && t.entry.direction === 'in')!;
      expect(inSyn('a').seconds).toBeLessThan(inSyn('b').seconds);
      const table = await during!;
      for (const client of [...ports.values()].map((p) => [...p][0])) expect(table, table).toContain(`127.0.0.1 . ${port} . 127.0.0.1 . ${client}`);
      // No port-wide element left: other peers get the kernel's RST again.
      expect(table, table).not.toMatch(new RegExp(`127\\.0\\.0\\.1 \\. ${port}(?! \\.)`));
      await flushGuards();
      expect(await tables()).not.toContain(TABLE);
    });

    it("fails a copy with b's ACK mutated, naming connection b, the line and the field", async () => {
      const m = mutate(library('listen-two-clients'), '*      b > . 4:4(0) ack 7', (l) => l.replace('ack 7', 'ack 6'));
      const r = await listening('listen-two-clients', m.text, { pcapOnFailure: false });
      expect(r.failure?.line).toBe(m.line);
      expect(r.failure?.connection).toBe('b');
      expect(r.failure?.field).toBe('ack');
      expect(r.failure?.message.split('\n')[0]).toBe(`script line ${m.line}, connection b: expected ack 6, got ack 7`);
    });

    it('fails when the second client never comes, naming its SYN line and connection', async () => {
      const port = freshPort();
      const m = mutate(library('listen-two-clients'), '*      b > S 0:0(0)', (l) => l.replace('*     ', '+0~+0.2'));
      const r = keep(await runScript(parseScript(m.text, 'one-client.pkt'), { listen: { port }, client: LISTEN_CLIENTS['listen-get']!(port), pcapOnFailure: false }));
      expect(r.failure?.line).toBe(m.line);
      expect(r.failure?.connection).toBe('b');
      expect(r.failure?.field).toBe('segment');
      expect(r.failure?.message.split('\n')[0]).toMatch(new RegExp(`^script line ${m.line}, connection b: expected a second client's SYN, got nothing by [\\d.]+ s$`));
      await flushGuards();
      expect(await tables()).not.toContain(TABLE);
    });
  });

  describe('the library in the listening role', () => {
    const scripts = readdirSync(LIBRARY).filter((f) => f.startsWith('listen-') && f.endsWith('.pkt')).map((f) => f.replace(/\.pkt$/, ''));
    it('has a client for every listening script', () => {
      expect(scripts.length).toBeGreaterThanOrEqual(4);
      for (const s of scripts) expect(LISTEN_CLIENTS[s], s).toBeDefined();
    });
    for (const name of scripts.filter((s) => s !== 'listen-two-clients' && s !== 'listen-get')) {
      it(`${name}.pkt passes against its client`, async () => {
        const r = await listening(name);
        expect(r.failure?.message).toBeUndefined();
      });
    }
  });

  it('drives two connections from TypeScript, a segment naming its own', async () => {
    const server = await startServer('get-keep');
    const s = await ScriptSession.open({ target: `127.0.0.1:${server.port}`, connections: ['a', 'b'] });
    try {
      await s.send('a < S 0:0(0) win 64240 <mss 1460>');
      await s.send('b < S 0:0(0) win 64240 <mss 1460>');
      // b's answer first: each connection waits on its own segments.
      await s.expect('b > S. 0:0(0) ack 1 <...>', { within: 1000 });
      await s.expect('a > S. 0:0(0) ack 1 <...>', { within: 1000 });
      await expect(s.send('c < R 1:1(0)')).rejects.toThrow("line 0: no connection 'c' in this session (its connections: a, b)");
      await expect(s.expect('b > S. 0:0(0) ack 1 <...>', { within: 100 })).rejects.toThrow(/^script, connection b: expected a segment, got nothing/);
      await s.send('a < R 1:1(0)');
      await s.send('b < R 1:1(0)');
      const sports = new Set(s.trace.filter((e) => e.direction === 'out').map((e) => e.packet.layer(TCPLayer).get('sport')));
      expect(sports.size).toBe(2);
    } finally {
      await s.close();
      await server.close();
    }
  });

  it('names the connection in the TAP report of a folder run (the other formats: script-connections.test.ts)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synack-script-conns-'));
    const server = await startServer('get-keep');
    try {
      const m = mutate(library('two-clients'), '*      b > P. 1:7(6) ack 4', (l) => l.replace('ack 4', 'ack 5'));
      writeFileSync(join(dir, 'mutant.pkt'), m.text);
      const tap = await cli('script', dir, '--target', `127.0.0.1:${server.port}`, '--report', 'tap');
      expect(tap.status, tap.stderr).toBe(1);
      expect(tap.stdout, tap.stdout).toContain(`  line: ${m.line}\n  field: ack\n  connection: "b"\n`);
      expect(tap.stdout).toContain(`  message: "${join(dir, 'mutant.pkt')}: script line ${m.line}, connection b: expected ack 5, got ack 4\\n`);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
