/**
 * Conversation scripts against the real kernel on loopback: every script of the library passes
 * against its server; copies with one thing wrong (a flag, an ack, a segment the server never
 * sends, a segment that comes too late) fail at the right line and field; recordings replay;
 * and the command's exit codes are 0, 1 and 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/index.js';
import { parseScript } from '../src/script/parse.js';
import { runScript, type RunOptions, type RunResult } from '../src/script/runner.js';
import { recordConversation } from '../src/script/recorder.js';
import { ScriptSession, ScriptCheckError } from '../src/script/session.js';
import { readPacketsSync } from '../src/pcap/read.js';
import { cli } from './helpers/script-cli.js';
import { boundNotListening, closedPort, startServer, type ServerKind, type TestServer } from './helpers/script-servers.js';

const ROOT = join(import.meta.dirname, '..');
const LIBRARY = join(ROOT, 'examples', 'scripts');
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('script-live.test: skipped: raw sockets, captures and the kernel-RST guard need root');

type Kind = ServerKind | 'closed' | 'bound';

/** Which server each library script runs against. */
const LIBRARY_SERVERS: Record<string, Kind> = {
  'handshake-3way-close': 'get-close',
  'four-way-close': 'get-close',
  'client-closes-first': 'get-keep',
  'simultaneous-close': 'get-close',
  'rst-closed-port': 'closed',
  'bound-not-listening': 'bound',
  'close-wait-never-close': 'never-close',
  'time-wait': 'get-close',
  'challenge-ack': 'never-close',
  'zero-window-probe': 'never-close',
  'bulk-1mb': 'bulk',
  'two-clients': 'get-keep',
};
/**
 * Scripts of the listening role (listen-*.pkt: a real client connects to them):
 * test/script-connections-live.test.ts and test/script-packetdrill.test.ts run them with their
 * clients (LISTEN_CLIENTS in helpers/script-servers.ts).
 */
const isListening = (name: string): boolean => name.startsWith('listen-');

async function target(kind: Kind): Promise<TestServer> {
  if (kind === 'closed') return { port: await closedPort(), close: async () => undefined };
  if (kind === 'bound') return boundNotListening();
  return startServer(kind);
}

const library = (name: string): string => readFileSync(join(LIBRARY, `${name}.pkt`), 'utf8');

async function run(text: string, kind: Kind, source = 'mutant.pkt', extra: Partial<RunOptions> = {}): Promise<RunResult> {
  const server = await target(kind);
  try {
    return await runScript(parseScript(text, source), { target: `127.0.0.1:${server.port}`, pcapOnFailure: true, ...extra });
  } finally {
    await server.close();
  }
}

/** The script with one line replaced (found by its exact text); returns the text and the line number. */
function mutate(name: string, line: string, replacement: string | null): { text: string; line: number } {
  const lines = library(name).split('\n');
  const index = lines.findIndex((l) => l === line);
  if (index < 0) throw new Error(`no line '${line}' in ${name}.pkt`);
  if (replacement === null) lines.splice(index, 1);
  else lines[index] = replacement;
  return { text: lines.join('\n'), line: index + 1 };
}

function failure(r: RunResult): ScriptCheckError {
  if (r.ok || !r.failure) throw new Error('the mutated script passed: the checker could not fail');
  return r.failure;
}

describe.skipIf(!isRoot)('conversation scripts against the kernel on loopback', () => {
  const pcaps: string[] = [];
  afterAll(() => {
    for (const p of pcaps) rmSync(p, { force: true });
  });

  describe('the library', () => {
    it('has a server for every script', () => {
      const names = readdirSync(LIBRARY).filter((f) => f.endsWith('.pkt')).map((f) => f.replace(/\.pkt$/, '')).filter((n) => !isListening(n));
      expect(Object.keys(LIBRARY_SERVERS).sort()).toEqual(names.sort());
    });

    for (const [name, kind] of Object.entries(LIBRARY_SERVERS)) {
      it(`${name}.pkt passes against a '${kind}' server`, async () => {
        const r = await run(library(name), kind, `${name}.pkt`);
        if (r.pcapPath) pcaps.push(r.pcapPath);
        expect(r.failure?.message ?? 'passed').toBe('passed');
        expect(r.trace.length).toBeGreaterThan(1);
      });
    }
  });

  describe('mutated scripts fail at the right line and field', () => {
    it('a wrong flag', async () => {
      const m = mutate('handshake-3way-close', '+0     > F. 7:7(0) ack 4 <nop,nop,TS val 1000 ecr 100>', '+0     > R. 7:7(0) ack 4 <nop,nop,TS val 1000 ecr 100>');
      const f = failure(await run(m.text, 'get-close'));
      pcaps.push(f.pcapPath!);
      expect(f.line).toBe(m.line);
      expect(f.field).toBe('flags');
      expect(f.message).toMatch(new RegExp(`^script line ${m.line}: expected flags R\\., got flags F\\.`));
      // Both segments in script syntax, and a pcap of the run holding every segment both ways.
      expect(f.message).toMatch(/\n {2}script: \+0 {5}> R\. 7:7\(0\) ack 4/);
      expect(f.message).toMatch(/\n {2}live: {3}[\d.]+ > F\. 7:7\(0\) ack 4 win \d+ <nop,nop,TS val \d+ ecr 100>/);
      expect(f.pcapPath && existsSync(f.pcapPath)).toBe(true);
      expect([...readPacketsSync(f.pcapPath!)].length).toBeGreaterThanOrEqual(7);
    });

    it('a wrong ack', async () => {
      const m = mutate('handshake-3way-close', '+0     > . 1:1(0) ack 4 <nop,nop,TS val 1000 ecr 100>', '+0     > . 1:1(0) ack 3 <nop,nop,TS val 1000 ecr 100>');
      const f = failure(await run(m.text, 'get-close'));
      pcaps.push(f.pcapPath!);
      expect(f.line).toBe(m.line);
      expect(f.field).toBe('ack');
      expect(f.message.split('\n')[0]).toBe(`script line ${m.line}: expected ack 3, got ack 4`);
    });

    it('a segment the script leaves out: the next line meets it', async () => {
      const m = mutate('handshake-3way-close', '+0     > . 1:1(0) ack 4 <nop,nop,TS val 1000 ecr 100>', null);
      const f = failure(await run(m.text, 'get-close'));
      pcaps.push(f.pcapPath!);
      // The reply's line now sits where the ACK's was, and gets the ACK.
      expect(f.line).toBe(m.line);
      expect(f.message.split('\n')[0]).toBe(`script line ${m.line}: expected flags P., got flags .`);
    });

    it('a segment the server never sends', async () => {
      const m = mutate('close-wait-never-close', '+0     quiet 0.5', '+0~+0.3 > F. 7:7(0) ack 5 <...>');
      const f = failure(await run(m.text, 'never-close'));
      pcaps.push(f.pcapPath!);
      expect(f.line).toBe(m.line);
      expect(f.field).toBe('segment');
      expect(f.message.split('\n')[0]).toMatch(new RegExp(`^script line ${m.line}: expected a segment, got nothing by [\\d.]+ s$`));
    });

    it('a segment that comes too late', async () => {
      // The first zero-window probe comes after one RTO (>= 200 ms), not at once.
      const m = mutate('zero-window-probe', '+0.18~+0.3 > . 0:0(0) ack 4 <...>', '+0     > . 0:0(0) ack 4 <...>');
      const f = failure(await run(m.text, 'never-close'));
      pcaps.push(f.pcapPath!);
      expect(f.line).toBe(m.line);
      expect(f.field).toBe('time');
      expect(f.message.split('\n')[0]).toMatch(new RegExp(`^script line ${m.line}: expected the segment at [\\d.]+ s \\(±[\\d.]+ s\\), got it at [\\d.]+ s, too late$`));
    });

    it('a segment that comes too early', async () => {
      const m = mutate('four-way-close', '+0     > . 8:8(0) ack 5 <nop,nop,TS val 1050 ecr 150>', '+0.2   > . 8:8(0) ack 5 <...>');
      const f = failure(await run(m.text, 'get-close'));
      pcaps.push(f.pcapPath!);
      expect(f.line).toBe(m.line);
      expect(f.field).toBe('time');
      expect(f.message.split('\n')[0]).toMatch(/too early$/);
    });

    it('a segment after the last line: not looked at by default (packetdrill), a failure when nothing more is asked', async () => {
      const m = mutate('rst-closed-port', '+0     > R. 0:0(0) ack 1 win 0', null);
      const text = m.text.replace('+0     quiet 0.1', '+0.05  < . 1:1(0) ack 1 win 0');
      const lax = await run(text, 'closed');
      expect(lax.failure?.message).toBeUndefined();
      const f = failure(await run(text, 'closed', 'mutant.pkt', { nothingMore: true }));
      pcaps.push(f.pcapPath!);
      expect(f.field).toBe('quiet');
      expect(f.message.split('\n')[0]).toMatch(/expected nothing more after the last line, got a segment at/);
    });

    it('a wrong TS echo', async () => {
      const m = mutate('handshake-3way-close', '+0     > . 8:8(0) ack 5 <nop,nop,TS val 1000 ecr 101>', '+0     > . 8:8(0) ack 5 <nop,nop,TS val 1000 ecr 100>');
      const f = failure(await run(m.text, 'get-close'));
      pcaps.push(f.pcapPath!);
      expect(f.line).toBe(m.line);
      expect(f.message.split('\n')[0]).toBe(`script line ${m.line}: expected TS ecr 100, got TS ecr 101`);
    });
  });

  describe('recording', () => {
    for (const [kind, close] of [['get-close', 'active'], ['get-keep', 'active'], ['never-close', 'abort'], ['closed', 'none']] as const) {
      it(`records a conversation with a '${kind}' server (close ${close}) that then passes as a script`, async () => {
        const server = await target(kind);
        try {
          const rec = await recordConversation({ target: `127.0.0.1:${server.port}`, send: kind === 'closed' ? [] : ['get'], close, wait: 100 });
          expect(rec.script).toMatch(/^0 +< S 0:0\(0\) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>$/m);
          if (kind !== 'closed') expect(rec.script).toMatch(/> P\. 1:7\(6\) ack 4 <nop,nop,TS val \d+ ecr \d+> "200 ok"/);
          const r = await runScript(parseScript(rec.script, 'recorded.pkt'), { target: `127.0.0.1:${server.port}` });
          if (r.pcapPath) pcaps.push(r.pcapPath);
          expect(r.failure?.message ?? 'passed', rec.script).toBe('passed');
        } finally {
          await server.close();
        }
      });
    }
  });

  describe('the TypeScript API', () => {
    it('send() and expect() with relative numbers, and a failed expect() that names the field', async () => {
      const server = await startServer('get-close');
      // Our ACK of its FIN comes late on a busy machine, and the kernel's tail-loss probe then
      // resends that FIN before our ACK's answer: a repeat, skipped as a script's 'retransmits allow'.
      const s = await ScriptSession.open({ target: `127.0.0.1:${server.port}`, allowRetransmits: true });
      try {
        await s.send('S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>');
        await s.expect('S. 0:0(0) ack 1 <...>', { within: 500 });
        await s.send('. 1:1(0) ack 1 win 502 <nop,nop,TS val 101 ecr 1000>');
        await s.send('P. 1:4(3) ack 1 win 502 <nop,nop,TS val 101 ecr 1000> "get"');
        await s.expect('. 1:1(0) ack 4 <nop,nop,TS val 1000 ecr 101>', { within: 500 });
        const err = await s.expect('P. 1:7(6) ack 4 <...> "200 no"', { within: 500 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ScriptCheckError);
        expect((err as ScriptCheckError).message.split('\n')[0]).toBe('script: expected payload "200 no", got payload "200 ok"');
        await s.expect('F. 7:7(0) ack 4 <...>', { within: 500 });
        await s.send('F. 4:4(0) ack 8 win 502 <nop,nop,TS val 102 ecr 1000>');
        await s.expect('. 8:8(0) ack 5 <...>', { within: 500 });
        await s.quiet(50);
      } finally {
        await s.close();
        await server.close();
      }
    });
  });

  describe('synack script, the command', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'synack-script-cli-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 0 and prints the exchange as tcpdump lines when the script holds', async () => {
      const server = await startServer('get-close');
      try {
        const r = await cli('script', join(LIBRARY, 'handshake-3way-close.pkt'), '--target', `127.0.0.1:${server.port}`);
        expect(r.stderr, r.stdout).toBe('');
        expect(r.status).toBe(0);
        const lines = r.stdout.trim().split('\n');
        expect(lines[0]).toMatch(new RegExp(`^0\\.\\d{6} IP 127\\.0\\.0\\.1\\.\\d+ > 127\\.0\\.0\\.1\\.${server.port}: Flags \\[S\\], seq \\d+, win 64240, options \\[mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7\\], length 0$`));
        expect(lines.some((l) => /Flags \[P\.\], seq \d+:\d+, ack \d+, win \d+, options \[.*\], length 6/.test(l))).toBe(true);
        expect(lines.at(-1)).toMatch(/handshake-3way-close\.pkt: passed against 127\.0\.0\.1:\d+, handshake RTT [\d.]+ ms/);
      } finally {
        await server.close();
      }
    });

    it('exits 1 with the line, the field, both segments and a pcap when a check fails', async () => {
      const server = await startServer('get-close');
      try {
        const m = mutate('handshake-3way-close', '+0     > . 1:1(0) ack 4 <nop,nop,TS val 1000 ecr 100>', '+0     > . 1:1(0) ack 1 <nop,nop,TS val 1000 ecr 100>');
        const file = join(dir, 'wrong-ack.pkt');
        const pcap = join(dir, 'run.pcap');
        writeFileSync(file, m.text);
        const r = await cli('script', file, '--target', `127.0.0.1:${server.port}`, '--pcap', pcap, '-q');
        expect(r.status).toBe(1);
        const err = r.stderr.split('\n');
        expect(err[0]).toBe(`script line ${m.line}: expected ack 1, got ack 4`);
        expect(err[1]).toMatch(/^ {2}script: \+0 +> \. 1:1\(0\) ack 1/);
        expect(err[2]).toMatch(/^ {2}live: {3}[\d.]+ > \. 1:1\(0\) ack 4/);
        expect(err[3]).toBe(`  pcap of the run: ${pcap}`);
        expect([...readPacketsSync(pcap)].length).toBeGreaterThanOrEqual(5);
      } finally {
        await server.close();
      }
    });

    it('exits 2 with file:line:column on a malformed script', async () => {
      const file = join(dir, 'bad.pkt');
      writeFileSync(file, '0 < S 0:0(0) win 64240\n+0 > S. 0:0(0) akc 1\n');
      const r = await cli('script', file, '--target', '127.0.0.1:9');
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`synack: ${file}:2:16: expected ack N, win N, urg N, <options> or a payload ("text" or 0x hex), got 'akc' (did you mean 'ack'?)`);
      expect(r.stderr.split('\n')[2]).toBe('                 ^');
    });

    it('exits 2 without a target', async () => {
      const r = await cli('script', join(LIBRARY, 'rst-closed-port.pkt'));
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/no target: give --target HOST:PORT/);
    });

    it('--record prints a script that passes against the same server', async () => {
      const server = await startServer('get-keep');
      try {
        const out = join(dir, 'recorded.pkt');
        const rec = await cli('script', '--record', `127.0.0.1:${server.port}`, '--send', 'get', '--close', 'active', '--wait', '50ms', '-o', out);
        expect(rec.stderr).toBe('');
        expect(rec.status).toBe(0);
        expect(readFileSync(out, 'utf8')).toMatch(/"get"/);
        const r = await cli('script', out, '-q');
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      } finally {
        await server.close();
      }
    });
  });
});
