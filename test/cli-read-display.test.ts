/**
 * tcpdump's display flags in `synack read` and `synack sniff`: -A/-AA, -X/-XX, -q and -t to
 * -ttttt, line for line against `tcpdump -nn` with the same flags; `synack read -` printing
 * packets as they arrive through a pipe; --json in read, sniff and build in the one schema.
 *
 * Needs: tcpdump (the oracle, always). Root (skipped with a reason otherwise) for the capture of
 * real loopback traffic made once here by tcpdump -i lo (curl against a local HTTP server, nc
 * sending UDP, ping), for live sniff and for the tcpdump -U -w - pipe; the other cases (a
 * crafted file with times before 1970 and past 2038, the slow-writer pipe, build --json) are pure.
 * Run under the shared lock: flock /tmp/synack-net.lock npx vitest run test/cli-read-display.test.ts
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP, TCP, writePcap } from '../src/index.js';
import { BIN, ensureBuilt, isRoot, startSynack, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-read-display-'));
const capture = join(dir, 'lo.pcap');
const times = join(dir, 'times.pcap');
let httpPort = 0;
let udpPort = 0;
const hasTcpdump = spawnSync('tcpdump', ['--version']).status === 0;
if (!hasTcpdump && process.env.CI === 'true') throw new Error('tcpdump (the oracle of this file) is missing: apt-get install -y tcpdump');
if (!isRoot) console.log('cli-read-display: not root: the live-traffic cases (capture, sniff, tcpdump pipe) are skipped');

function tcpdump(args: string[], tz = 'UTC'): string {
  return spawnSync('tcpdump', ['-nn', ...args], { encoding: 'utf8', env: { ...process.env, TZ: tz }, maxBuffer: 64 << 20 }).stdout;
}

/** Runs a client program to its end (asynchronously: the servers it talks to live in this process). */
function run(command: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end(input ?? '');
  });
}

/** Waits for `text` in a child's stream, failing after `ms`. */
function waitFor(stream: NodeJS.ReadableStream, text: string | RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no ${String(text)} within ${ms} ms; got: ${seen}`)), ms);
    stream.on('data', (d: Buffer) => {
      seen += String(d);
      if (typeof text === 'string' ? seen.includes(text) : text.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

function ended(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('close', r)));
}

/** An HTTP server on 127.0.0.1 that answers with a text body (CR LF headers, a tab and bytes that are not text). */
async function startHttp(): Promise<http.Server> {
  const server = http.createServer((_, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end('hello from synack\r\n\tindented line\nbinary \u0001\u0002\u00ff end\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

/** Real loopback traffic captured by tcpdump itself: curl's GET, nc's UDP datagrams, ping. */
async function makeLoopbackCapture(): Promise<void> {
  const server = await startHttp();
  httpPort = (server.address() as import('node:net').AddressInfo).port;
  udpPort = httpPort === 65535 ? 65534 : httpPort + 1;
  const dump = spawn('tcpdump', ['-i', 'lo', '-Z', 'root', '--immediate-mode', '-U', '-w', capture, `tcp port ${httpPort} or udp port ${udpPort} or (icmp and host 127.0.0.1)`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await waitFor(dump.stderr!, 'listening on', 10_000);
  try {
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${httpPort}/`]);
    await run('curl', ['-s', '-o', '/dev/null', '-H', 'X-Test: a\tb', `http://127.0.0.1:${httpPort}/second`]);
    await run('nc', ['-u', '-q0', '127.0.0.1', String(udpPort)], 'a datagram from nc\n');
    await run('ping', ['-c', '2', '-i', '0.2', '-W', '1', '127.0.0.1']);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    dump.kill('SIGINT');
    await ended(dump);
    server.close();
  }
}

/** A crafted file whose times go backwards, sit at 0, before 1970 and past 2038 (signed 32-bit in pcap). */
function makeTimesCapture(): void {
  const w = writePcap(times, { linkType: 'raw' });
  const syn = IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ dport: 80, flags: 'S' }));
  for (const micros of [1_700_000_000_123_456, 1_700_000_001_000_001, 1_699_999_999_999_999, 0, 5_999_999, 3_000_000_000_000_005, 1_700_086_400_500_000]) w.write(syn, micros);
  w.close();
}

beforeAll(async () => {
  ensureBuilt();
  makeTimesCapture();
  if (isRoot && hasTcpdump) await makeLoopbackCapture();
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLAG_SETS: string[][] = [
  ['-A'], ['-AA'], ['-X'], ['-XX'], ['-A', '-X'], ['-x', '-A'], ['-X', '-e', '-v'],
  ['-t'], ['-tt'], ['-ttt'], ['-tttt'], ['-ttttt'],
  ['-q'], ['-q', '-e'], ['-q', '-v'], ['-t', '-q', '-S'], ['-q', '-A'], ['-tt', '-X', '-S'],
];

describe.skipIf(!isRoot)('read: display flags = tcpdump -nn -r (real loopback traffic)', () => {
  for (const flags of FLAG_SETS) {
    it(flags.join(' '), async () => {
      const ours = await synack(['read', capture, ...flags]);
      expect(ours.code, ours.stderr).toBe(0);
      const theirs = tcpdump(['-r', capture, ...flags]);
      // curl's two exchanges, nc's datagram (and the port-unreachable), two pings each way.
      expect(theirs.split('\n').length).toBeGreaterThan(20);
      expect(ours.stdout).toBe(theirs);
    });
  }

  it('-A shows the HTTP request and answer as text (CR LF as line ends, other bytes as dots)', async () => {
    const ours = await synack(['read', capture, '-A', `tcp port ${httpPort}`]);
    expect(ours.stdout).toContain('GET / HTTP/1.1\nHost: 127.0.0.1:');
    expect(ours.stdout).toContain('hello from synack\n\tindented line\nbinary ');
    expect(ours.stdout).toBe(tcpdump(['-r', capture, '-A', `tcp port ${httpPort}`]));
  });

  it('-tttt and the default follow the local time zone as tcpdump does', async () => {
    for (const tz of ['Asia/Kolkata', 'America/St_Johns']) {
      for (const flags of [['-tttt'], []]) {
        const ours = await synack(['read', capture, ...flags], { env: { TZ: tz } });
        expect(ours.stdout, `${tz} ${flags.join(' ')}`).toBe(tcpdump(['-r', capture, ...flags], tz));
      }
    }
  });

  it('--json: one packet a line in the schema; summary is the -t line, time the -tt one', async () => {
    const ours = await synack(['read', capture, '--json', '-c', '6']);
    expect(ours.code, ours.stderr).toBe(0);
    const lines = ours.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    const plain = tcpdump(['-r', capture, '-t', '-c', '6']).trimEnd().split('\n');
    const epoch = tcpdump(['-r', capture, '-tt', '-c', '6']).trimEnd().split('\n');
    lines.forEach((line, i) => {
      const p = JSON.parse(line) as { time: number; summary: string; layers: Array<{ name: string; fields: Record<string, unknown> }> };
      expect(p.summary).toBe(plain[i]);
      expect(p.time.toFixed(6)).toBe(epoch[i]!.split(' ')[0]);
      expect(p.layers.map((l) => l.name).slice(0, 3)).toEqual(['Ether', 'IP', 'TCP']);
      expect(p.layers[2]!.fields.dport === httpPort || p.layers[2]!.fields.sport === httpPort).toBe(true);
    });
    // The first segment is curl's SYN: flags 2, and its options as the schema gives them.
    const syn = JSON.parse(lines[0]!) as { layers: Array<{ fields: Record<string, unknown> }> };
    expect(syn.layers[2]!.fields.flags).toBe(2);
    expect(JSON.stringify(syn.layers[2]!.fields.options)).toContain('"MSS"');
  });
});

describe('read: time stamps at the edges (crafted file), the pipe, --json in build', () => {
  for (const flags of [[], ['-tt'], ['-ttt'], ['-tttt'], ['-ttttt']]) {
    it(`times going backwards, at 0, before 1970 and past 2038: ${flags.join(' ') || '(default)'}`, async () => {
      const ours = await synack(['read', times, ...flags]);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout).toBe(tcpdump(['-r', times, ...flags]));
    });
  }

  it('-tttttt is refused as tcpdump refuses it (exit 2, one line)', async () => {
    const r = await synack(['read', times, '-tttttt']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('synack: only -t, -tt, -ttt, -tttt and -ttttt are supported (as tcpdump)\n');
  });

  it('read - prints a packet as soon as it comes through the pipe, before the writer ends', async () => {
    const file = readFileSync(times);
    // The file header and the first record, then (once that line is out) the rest.
    const firstEnd = 24 + 16 + file.readUInt32LE(24 + 8);
    const child = spawn(process.execPath, [BIN, 'read', '-', '-t'], { env: { ...process.env, TZ: 'UTC' }, stdio: ['pipe', 'pipe', 'pipe'] });
    const firstLine = waitFor(child.stdout!, '\n', 10_000);
    child.stdin!.write(file.subarray(0, firstEnd));
    const early = await firstLine;
    expect(early).toBe('IP 127.0.0.1.20 > 127.0.0.1.80: Flags [S], seq 0, win 8192, length 0\n');
    expect(child.exitCode).toBe(null);
    let rest = '';
    child.stdout!.on('data', (d: Buffer) => (rest += String(d)));
    child.stdin!.end(file.subarray(firstEnd));
    expect(await ended(child)).toBe(0);
    expect(early + rest).toBe(tcpdump(['-r', times, '-t']));
  });

  it('build --json gives each packet in the schema, with hex, command and length', async () => {
    const r = await synack(['build', '--json', "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')"]);
    const [p] = JSON.parse(r.stdout) as Array<{ time: null; summary: string; layers: Array<{ name: string; fields: Record<string, unknown> }>; hex: string; command: string; length: number }>;
    expect(p!.time).toBe(null);
    expect(p!.summary).toBe('IP 127.0.0.1.20 > 127.0.0.1.80: Flags [S], seq 0, win 8192, length 0');
    expect(p!.layers.map((l) => l.name)).toEqual(['IP', 'TCP']);
    // Computed on the wire: the IP length and both checksums.
    expect(p!.layers[0]!.fields).toMatchObject({ len: 40, chksum: 0x7ccd, ttl: 64 });
    expect(p!.layers[1]!.fields).toMatchObject({ dport: 80, flags: 2, chksum: 0x917c });
    expect(p!.hex).toBe('450000280001000040067ccd7f0000017f00000100140050000000000000000050022000917c0000');
    expect(p!.length).toBe(40);
  });
});

describe.skipIf(!isRoot)('live: sniff with the flags, and tcpdump -U -w - | synack read -', () => {
  it('sniff -t -A, -t -q and -t -X print what tcpdump -i lo prints for the same packets', async () => {
    const server = await startHttp();
    const port = (server.address() as import('node:net').AddressInfo).port;
    const filter = `tcp port ${port}`;
    try {
      for (const flags of [['-t', '-A'], ['-t', '-q'], ['-t', '-X']]) {
        // A whole curl exchange: handshake, request, answer, close (at least 8 segments).
        const count = '8';
        const ours = startSynack(['sniff', '-i', 'lo', ...flags, '-c', count, filter]);
        const theirs = spawn('tcpdump', ['-nn', '-i', 'lo', '--immediate-mode', '-l', ...flags, '-c', count, filter], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
        let theirOut = '';
        theirs.stdout!.on('data', (d: Buffer) => (theirOut += String(d)));
        await Promise.all([ours.said('listening on'), waitFor(theirs.stderr!, 'listening on', 10_000)]);
        await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
        const [mine] = await Promise.all([ours.wait(), ended(theirs)]);
        expect(mine.code, mine.stderr).toBe(0);
        expect(mine.stdout, flags.join(' ')).toBe(theirOut);
      }
      // --json: the same packets as objects of the schema.
      const json = startSynack(['sniff', '-i', 'lo', '--json', '-c', '3', filter]);
      await json.said('listening on');
      await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
      const out = await json.wait();
      const packets = out.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { summary: string; layers: Array<{ name: string }> });
      expect(packets).toHaveLength(3);
      expect(packets[0]!.summary).toMatch(/^IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+: Flags \[S\], seq \d+, win/);
      expect(packets[0]!.layers.map((l) => l.name)).toEqual(['Ether', 'IP', 'TCP']);
    } finally {
      server.close();
    }
  });

  it('tcpdump -U -w - | synack read -: the first line shows while tcpdump still runs', async () => {
    const server = await startHttp();
    const port = (server.address() as import('node:net').AddressInfo).port;
    const pipeline = spawn('sh', ['-c', `tcpdump -i lo -U -w - 'tcp port ${port}' 2>/dev/null | "$0" "$1" read - -t`, process.execPath, BIN], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' }, detached: true });
    try {
      await waitFor(pipeline.stderr!, 'reading from file -', 10_000).catch(() => undefined);
      const seen = waitFor(pipeline.stdout!, /Flags \[S\]/, 10_000);
      // tcpdump writes nothing (not even the file header) until it has opened lo; retry the GET until a line shows.
      let got: string | undefined;
      for (let i = 0; i < 20 && got === undefined; i++) {
        await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/`]);
        got = await Promise.race([seen, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]);
      }
      expect(got).toMatch(/^IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+: Flags \[S\], seq \d+, win \d+, options \[mss/m);
      // The writer (tcpdump) is still running: the line came as the packet did, not at the end.
      expect(pipeline.exitCode).toBe(null);
    } finally {
      process.kill(-pipeline.pid!, 'SIGINT');
      await ended(pipeline);
      server.close();
    }
  });
});
