/**
 * Issue 11 item 11, root only: a user's script that forgets `c.close()` still exits once its
 * own code is done (the capture's poll handle, the delayed-ACK timer and the guard's nft pipe
 * do not keep it alive), and the guard's table is gone after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { isRoot } from './helpers/netns.js';

const root = isRoot();
if (!root) console.log('tcp-forget-close.test.ts: skipped, needs root (raw sockets, captures, nftables)');

/** Answers 'get' with '200 ok' and keeps the connection open (it never closes first). */
const SERVER = `
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
held = []
while True:
    c, _ = s.accept(); held.append(c)
    c.settimeout(5)
    try:
        c.recv(100); c.sendall(b'200 ok')
    except OSError:
        pass
`;

const EXIT_BOUND_MS = 10_000;
const connectTs = new URL('../src/tcp/connect.ts', import.meta.url).pathname;

/** Runs a user's script; resolves with its exit code and output, or 'hung' after the bound. */
function runScript(source: string): Promise<{ code: number | null | 'hung'; out: string; ms: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'hung', out, ms: performance.now() - started });
    }, EXIT_BOUND_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, ms: performance.now() - started });
    });
  });
}

describe.skipIf(!root)('a script that forgets close()', () => {
  let server: ChildProcess | undefined;
  let port = 0;
  beforeAll(async () => {
    server = spawn('/usr/bin/python3', ['-c', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    port = await new Promise<number>((resolve) => server!.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
  });
  afterAll(() => {
    server?.kill();
  });

  it('exits by itself once its code is done, and leaves no nft table of its pid', async () => {
    const r = await runScript(`import { connect } from ${JSON.stringify(connectTs)};
const c = await connect({ dst: '127.0.0.1', dport: ${port}, timeout: 3000 });
await c.send('get');
console.log('reply', String(await c.recv({ timeout: 3000 })));
console.log('pid', process.pid, c.state);
// no c.close(): the user forgot it`);
    expect(r.code, `the script did not exit within ${EXIT_BOUND_MS} ms; output:\n${r.out}`).toBe(0);
    expect(r.out).toContain('reply 200 ok');
    const pid = /pid (\d+) ESTABLISHED/.exec(r.out)?.[1];
    expect(pid).toBeDefined();
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toContain(`synack_${pid}`);
    console.log(`  exited by itself after ${Math.round(r.ms)} ms`);
  });

  it('still waits while the user awaits something (the wait is not cut short)', async () => {
    const r = await runScript(`import { connect } from ${JSON.stringify(connectTs)};
const c = await connect({ dst: '127.0.0.1', dport: ${port}, timeout: 3000 });
await c.send('get');
await c.recv({ timeout: 3000 });
// Nothing more will come: the wait runs to its timeout instead of the process ending under it.
const err = await c.recv({ timeout: 1500 }).then(() => 'data', (e) => e.message);
console.log('second recv:', err);`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/second recv: no data from 127\.0\.0\.1\.\d+ within 1500 ms/);
  });
});
