/**
 * packetdrill's rules against the real kernel on loopback (root: raw sockets, capture, the
 * kernel-RST guard): a megabyte sent in one write with TSO/GSO on passes a script that writes
 * each flight as one line (segments joined as packetdrill joins them) and fails with
 * --strict-segments; a '<' ACK without 'ack N' goes out with ack 0; ECN marks go on the wire
 * and are checked; the timing allowance includes the scheduling delay measured in this process;
 * a folder of scripts reports in TAP and JUnit XML (read back by Python's XML parser).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../src/index.js';
import { parseScript } from '../src/script/parse.js';
import { runScript, type RunOptions, type RunResult } from '../src/script/runner.js';
import { ScriptSession } from '../src/script/session.js';
import { TCPLayer } from '../src/layers/tcp.js';
import { LISTEN_CLIENTS, startServer, type ServerKind } from './helpers/script-servers.js';
import { cli, spawnCli } from './helpers/script-cli.js';

const ROOT = join(import.meta.dirname, '..');
const LIBRARY = join(ROOT, 'examples', 'scripts');
const isRoot = process.getuid?.() === 0;
if (!isRoot) console.log('script-packetdrill.test: skipped: raw sockets, captures and the kernel-RST guard need root');

const pcaps: string[] = [];

async function run(text: string, kind: ServerKind, extra: Partial<RunOptions> = {}): Promise<RunResult> {
  const server = await startServer(kind);
  try {
    const r = await runScript(parseScript(text, 'test.pkt'), { target: `127.0.0.1:${server.port}`, ...extra });
    if (r.pcapPath) pcaps.push(r.pcapPath);
    return r;
  } finally {
    await server.close();
  }
}

const HANDSHAKE = [
  '0      < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>',
  '+0     > S. 0:0(0) ack 1 <...>',
  '+0     < . 1:1(0) ack 1 win 502 <nop,nop,TS val 100 ecr 1000>',
];

describe.skipIf(!isRoot)("packetdrill's rules against the kernel", () => {
  afterAll(() => {
    for (const p of pcaps) rmSync(p, { force: true });
  });

  describe('a megabyte in one write, TSO/GSO on', () => {
    const bulk = readFileSync(join(LIBRARY, 'bulk-1mb.pkt'), 'utf8');
    let joined: RunResult;
    let strict: RunResult;
    beforeAll(async () => {
      joined = await run(bulk, 'bulk');
      strict = await run(bulk, 'bulk', { strictSegments: true, pcapOnFailure: false });
    }, 60_000);

    it('passes, lines joined from several segments each', () => {
      expect(joined.failure?.message).toBeUndefined();
      expect(joined.joins.length).toBeGreaterThan(0);
      expect(Math.max(...joined.joins)).toBeGreaterThan(1);
      // Every byte of the megabyte came in, in order (seq ends at 1 MB + SYN).
      const data = joined.trace.filter((t) => t.entry.direction === 'in').reduce((n, t) => n + (t.entry.packet.getLayer('Raw')?.load.length ?? 0), 0);
      expect(data).toBeGreaterThanOrEqual(1 << 20);
    });

    it('fails with strict segments, naming a data line and its length', () => {
      const f = strict.failure;
      expect(f?.field).toBe('length');
      const line = bulk.split('\n')[f!.line - 1]!;
      expect(line).toMatch(/^\*\s+> \. \d+:\d+\(14480\) ack 5/);
      expect(f!.message.split('\n')[0]).toMatch(/expected length 14480, got length \d+$/);
    });
  });

  it("sends a '<' ACK without 'ack N' with ack 0, and ECN marks in the TOS byte", async () => {
    const text = [...HANDSHAKE, '+0     < [ect0] P. 1:5(4) ack 1 win 502 <nop,nop,TS val 100 ecr 1000> "get\\n"', '+0     < . 5:5(0) win 502'].join('\n');
    const r = await run(text, 'never-close');
    expect(r.failure?.message).toBeUndefined();
    const out = r.trace.filter((t) => t.entry.direction === 'out').map((t) => t.entry.packet);
    expect(out[2]!.layers[0]!.get('tos' as never)).toBe(2);
    expect(out[1]!.layers[0]!.get('tos' as never)).toBe(0);
    expect(out[3]!.layer(TCPLayer).get('ack')).toBe(0);
    expect(out[3]!.layer(TCPLayer).flagBits & 0x10).toBe(0x10);
  });

  it('fails a [ect0] line on a server that does not use ECN, naming the field', async () => {
    const text = [...HANDSHAKE, '+0     < P. 1:5(4) ack 1 win 502 <nop,nop,TS val 100 ecr 1000> "get\\n"', '+0     > [ect0] P. 1:7(6) ack 5 <...> "200 ok"'].join('\n');
    const r = await run(text, 'never-close');
    expect(r.failure?.line).toBe(5);
    expect(r.failure?.field).toBe('ecn');
    expect(r.failure?.message.split('\n')[0]).toBe('script line 5: expected [ect0], got [noecn]');
  });

  it('counts the scheduling delay it measures into the timing allowance, from the first line', async () => {
    const server = await startServer('never-close');
    const s = await ScriptSession.open({ target: `127.0.0.1:${server.port}`, tolerance: 0.001 });
    try {
      expect(s.rtt).toBeUndefined();
      expect(s.tolerance).toBeGreaterThanOrEqual(0.001);
      // A stall of 60 ms (what a loaded machine does to a timer) widens the allowance by as much.
      const until = performance.now() + 60;
      while (performance.now() < until) { /* busy, as a loaded machine */ }
      await new Promise((r) => setTimeout(r, 20));
      expect(s.tolerance).toBeGreaterThan(0.05);
    } finally {
      await s.close();
      await server.close();
    }
  });

  describe('the listening role: a real client connects to the script', () => {
    const port = 42000 + (process.pid % 5000);
    const client = LISTEN_CLIENTS['listen-get']!(port);
    const listenScript = readFileSync(join(LIBRARY, 'listen-get.pkt'), 'utf8');

    it('passes listen-get.pkt against a Python client, the RTT measured from our SYN-ACK', async () => {
      const r = await runScript(parseScript(listenScript, 'listen-get.pkt'), { listen: { port }, client });
      expect(r.failure?.message).toBeUndefined();
      expect(r.target).toEqual({ host: '127.0.0.1', port });
      expect(r.rtt).toBeGreaterThan(0);
      // The client's SYN is time 0 and the first segment of the trace.
      expect(r.trace[0]!.seconds).toBe(0);
      expect(r.trace[0]!.entry.direction).toBe('in');
    });

    it('fails a mutated copy at the right line and field', async () => {
      const lines = listenScript.split('\n');
      const i = lines.findIndex((l) => l.startsWith('*      > . 4:4(0) ack 7'));
      lines[i] = lines[i]!.replace('ack 7', 'ack 6');
      const r = await runScript(parseScript(lines.join('\n'), 'mutant.pkt'), { listen: { port: port + 1 }, client: LISTEN_CLIENTS['listen-get']!(port + 1), pcapOnFailure: false });
      expect(r.failure?.line).toBe(i + 1);
      expect(r.failure?.field).toBe('ack');
      expect(r.failure?.message.split('\n')[0]).toBe(`script line ${i + 1}: expected ack 6, got ack 7`);
    });
  });

  // The killed client is a zombie until something reaps it: with synack gone, that is PID 1,
  // which in a container may never do it. A zombie holds no socket and runs nothing: gone.
  const running = (pid: number): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  it('leaves nothing behind on Ctrl-C while listening: no client process, no nft table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synack-script-int-'));
    const pidFile = join(dir, 'client.pid');
    const port = 47000 + (process.pid % 2000);
    const child = spawnCli(['script', join(LIBRARY, 'listen-get.pkt'), '--listen', String(port), '--client', `echo $$ > ${pidFile}; exec sleep 30`]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
    try {
      // Wait for the client to start: the listener is in place by then.
      for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
      const clientPid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(clientPid).toBeGreaterThan(0);
      const tables = () => execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
      expect(tables()).toContain(`synack_${child.pid}`);
      child.kill('SIGINT');
      const status = await new Promise<number | null>((r) => child.once('close', (code, sig) => r(code ?? (sig ? 128 : null))));
      expect(status, stderr).not.toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(running(clientPid)).toBe(false);
      expect(tables()).not.toContain(`synack_${child.pid}`);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  describe('a folder of scripts, for a CI', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'synack-script-folder-'));
      const hs = readFileSync(join(LIBRARY, 'four-way-close.pkt'), 'utf8');
      writeFileSync(join(dir, 'a-pass.pkt'), hs);
      const lines = hs.split('\n');
      const i = lines.findIndex((l) => /> P\. 1:7\(6\) ack 4/.test(l));
      lines[i] = lines[i]!.replace('ack 4', 'ack 5');
      writeFileSync(join(dir, 'b-fail.pkt'), lines.join('\n'));
      writeFileSync(join(dir, 'c-error.pkt'), '0 < S 0:0(0) <mss MSS>\n');
      writeFileSync(join(dir, 'notes.txt'), 'not a script');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('runs every .pkt in name order and writes JUnit XML; TAP says the same', async () => {
      const server = await startServer('get-close');
      try {
        const junit = await cli('script', `${dir}/`, '--target', `127.0.0.1:${server.port}`, '--report', 'junit');
        expect(junit.status).toBe(2); // one script could not be read
        const py = [
          'import sys, json, xml.etree.ElementTree as ET',
          's = ET.fromstring(sys.stdin.read()).find("testsuite")',
          'print(json.dumps([[c.get("name").split("/")[-1], [x.tag for x in c]] for c in s.findall("testcase")] + [s.get("failures"), s.get("errors")]))',
        ].join('\n');
        const read = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: junit.stdout, encoding: 'utf8' }));
        if (read[0][1].length) console.log(junit.stdout);
        expect(read).toEqual([['a-pass.pkt', []], ['b-fail.pkt', ['failure']], ['c-error.pkt', ['error']], '1', '1']);
        expect(junit.stdout).toMatch(/<failure message="[^"]*b-fail\.pkt: script line 12: expected ack 5, got ack 4" type="ack">/);
        const tap = await cli('script', dir, '--target', `127.0.0.1:${server.port}`, '--report', 'tap');
        expect(tap.stdout.split('\n').filter((l) => /^(not )?ok /.test(l)).map((l) => l.replace(/ - .*\//, ' - '))).toEqual(['ok 1 - a-pass.pkt', 'not ok 2 - b-fail.pkt', 'not ok 3 - c-error.pkt']);
      } finally {
        await server.close();
      }
    }, 60_000);
  });
});
