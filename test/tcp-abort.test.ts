/**
 * connect() and listen() take an AbortSignal: aborting stops the wait at once, rejects with
 * the signal's reason, and releases the guard (its nft table), the capture and the socket. The
 * shell's Ctrl-C aborts a running connect/listen the same way (the shell as a subprocess, input
 * piped, as test/shell.test.ts drives it). Root only (raw sockets, captures, nftables): every
 * packet goes to 127.0.0.1; the SYN that connect() waits on is taken, unanswered, by a
 * listen({ handshake: false }) of this test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { connect } from '../src/tcp/connect.js';
import { listen } from '../src/tcp/listen.js';
import { BIN, ensureBuilt, freePort, isRoot } from './helpers/cli.js';

function tables(): string {
  return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
}

/** Resolves once no table of `pid` is left (the guard removes its own asynchronously), or after 5 s. */
async function noTableOf(pid: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (!tables().includes(`synack_${pid} `) && !tables().includes(`synack_${pid}\n`)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

describe.skipIf(!isRoot)('AbortSignal in connect() and listen() (root)', () => {
  it('listen(): aborting the wait for a SYN rejects with the reason at once and removes the port guard', async () => {
    const port = await freePort();
    const stop = new AbortController();
    const started = Date.now();
    const waiting = listen({ port, timeout: 30_000, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 500));
    expect(tables()).toContain(`synack_${process.pid}`);
    stop.abort(new Error('stop listening'));
    await expect(waiting).rejects.toThrow('stop listening');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await noTableOf(process.pid)).toBe(true);
  });

  it('connect(): an aborted signal refuses before anything is installed; aborting mid-handshake releases the guard', async () => {
    const port = await freePort();
    const already = AbortSignal.abort(new Error('too late'));
    await expect(connect({ dst: '127.0.0.1', dport: port, signal: already })).rejects.toThrow('too late');
    expect(await noTableOf(process.pid)).toBe(true);

    // A listener that takes the SYN and never answers it: connect() waits in SYN-SENT.
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    const silent = listen({ port, timeout: 20_000, handshake: false, ready });
    await isReady;
    const stop = new AbortController();
    const started = Date.now();
    const opening = connect({ dst: '127.0.0.1', dport: port, timeout: 30_000, signal: stop.signal });
    const taken = await silent;
    expect(taken.state).toBe('SYN-RECEIVED');
    stop.abort();
    await expect(opening).rejects.toThrow(/aborted/);
    expect(Date.now() - started).toBeLessThan(10_000);
    await taken.release();
    expect(await noTableOf(process.pid)).toBe(true);
  }, 30_000);

  it('the shell: Ctrl-C (SIGINT) stops an awaited listen(), runs no further line, exits 130, leaves no guard table', async () => {
    ensureBuilt();
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'shell'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end(`'started'\nawait listen({port: ${port}, timeout: 30000})\n'not reached'\n`);
    const deadline = Date.now() + 10_000;
    while (!tables().includes(`synack_${child.pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(tables()).toContain(`synack_${child.pid}`);
    const started = Date.now();
    child.kill('SIGINT');
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(killer);
    expect(code).toBe(130);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stderr).toContain('synack shell: interrupted');
    expect(stdout).not.toContain('not reached');
    expect(await noTableOf(child.pid!)).toBe(true);
  }, 30_000);
});

if (!isRoot) console.log('tcp-abort: skipped: not root (raw sockets, captures, nftables)');
