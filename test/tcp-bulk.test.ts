/**
 * Bulk sends by hand (issue 14 item 2), root only: one c.send() of 1, 10 and 100 MB to a kernel
 * server over lo and over veth between namespaces. The server's application hashes what it
 * reads; its sha256 must equal ours, the packets must fit the path (no "Message too long" on
 * lo, whose MSS is 65,495), and the close must complete (no stick in FIN-WAIT-1).
 *
 * 100 MB runs here too (a few seconds on lo, longer over veth's 1,500-byte MTU); set
 * SYNACK_BULK_MAX_MB=10 to cut the suite short on a slow machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createNetnsPair, isRoot, type NetnsPair } from './helpers/netns.js';

const root = isRoot();
if (!root) console.log('tcp-bulk.test.ts: skipped, needs root (raw sockets, captures, nftables, namespaces)');

const PYTHON = '/usr/bin/python3';
const CLIENT = new URL('./helpers/bulk-client.ts', import.meta.url).pathname;
const MAX_MB = Number(process.env.SYNACK_BULK_MAX_MB ?? 100);
const SIZES = [1, 10, 100].filter((mb) => mb <= MAX_MB);

/** Reads until EOF, hashing, then sends the hex digest and closes; one connection per accept. */
const SERVER = (host: string): string => `
import socket, hashlib
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(host)}, 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    h = hashlib.sha256()
    while True:
        d = c.recv(1 << 20)
        if not d: break
        h.update(d)
    c.sendall(h.hexdigest().encode()); c.close()
`;

interface BulkResult {
  sent: string;
  reply: string;
  stateAfterShutdown: string;
  state: string;
  retransmissions: number;
  largestPacket: number;
  mb: number;
  sendMs: number;
  pid: number;
}

async function startServer(argv: string[], spawnIt: (argv: string[]) => ChildProcess): Promise<{ port: number; child: ChildProcess }> {
  const child = spawnIt(argv);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
    child.stdout!.once('data', (d) => resolve(Number(String(d).trim())));
  });
  return { port, child };
}

/** Runs every size in one client process (start-up is most of a small send's time). */
function results(out: string): Map<number, BulkResult> {
  const lines = out.trim().split('\n').filter((l) => l.startsWith('{'));
  return new Map(lines.map((l) => JSON.parse(l) as BulkResult).map((r) => [r.mb, r]));
}

function check(r: BulkResult | undefined, mtu: number): void {
  if (!r) throw new Error('the client printed no result for this size');
  expect(r.reply).toBe(r.sent);
  expect(r.stateAfterShutdown).not.toBe('FIN-WAIT-1');
  expect(r.state).toBe('TIME-WAIT');
  expect(r.largestPacket).toBeLessThanOrEqual(Math.min(mtu, 65535));
  console.log(`  ${r.mb} MB sent in ${r.sendMs} ms, ${r.retransmissions} retransmissions, largest packet ${r.largestPacket} bytes`);
}

describe.skipIf(!root)('bulk sends over lo', () => {
  let server: { port: number; child: ChildProcess } | undefined;
  let sent: Map<number, BulkResult> = new Map();
  beforeAll(async () => {
    server = await startServer([PYTHON, '-c', SERVER('127.0.0.1')], ([cmd, ...args]) => spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
    sent = results(execFileSync(process.execPath, ['--import', 'tsx', CLIENT, '127.0.0.1', String(server.port), '7919', ...SIZES.map(String)], { encoding: 'utf8', timeout: 150_000 }));
  });
  afterAll(() => {
    server?.child.kill();
  });
  for (const mb of SIZES) {
    it(`${mb} MB in one send(), sha256 equal at the server, then a complete close`, () => {
      check(sent.get(mb), 65536);
      expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(`synack_${sent.get(mb)!.pid}`);
    });
  }
});

describe.skipIf(!root)('bulk sends over veth between namespaces', () => {
  let pair: NetnsPair | undefined;
  let server: { port: number; child: ChildProcess } | undefined;
  let sent: Map<number, BulkResult> = new Map();
  beforeAll(async () => {
    const p = (pair = createNetnsPair('bulk'));
    server = await startServer([PYTHON, '-c', SERVER(p.addrB.v4)], (argv) => p.spawn(p.b, argv));
    sent = results(p.exec(p.a, [process.execPath, '--import', 'tsx', CLIENT, p.addrB.v4, String(server.port), '104729', ...SIZES.map(String)]));
  });
  afterAll(() => {
    pair?.remove();
  });
  for (const mb of SIZES) {
    it(`${mb} MB in one send() from A to B, sha256 equal at the server, then a complete close; no rule left in A`, () => {
      check(sent.get(mb), 1500);
      expect(pair!.exec(pair!.a, ['nft', 'list', 'tables'])).not.toContain('synack_');
    });
  }
});
