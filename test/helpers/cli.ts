/**
 * Running the real `synack` program as a user does: `npm run build` (only when a source file
 * is newer than the build), then bin/synack as a subprocess, with its exit code and output.
 */
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'synack');

function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/ with `npm run build` unless it is newer than every file in src/. */
export function ensureBuilt(): void {
  const main = join(ROOT, 'dist', 'cli', 'main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newest(join(ROOT, 'src'))) return;
  // tsc still writes dist/ when files outside the CLI have type errors; the program is what counts.
  spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(main)) throw new Error('npm run build produced no dist/cli/main.js');
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs synack to completion (killed after `timeoutMs`). */
export function synack(args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const command = options.prefix ? options.prefix[0]! : process.execPath;
    const argv = options.prefix ? [...options.prefix.slice(1), process.execPath, BIN, ...args] : [BIN, ...args];
    const child = spawn(command, argv, { env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Starts synack in the background (for sniff); resolve with wait(). */
export function startSynack(args: string[]): { wait: () => Promise<Run>; kill: (signal?: NodeJS.Signals) => void; said: (text: string) => Promise<void> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const watchers: Array<() => void> = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of watchers) w();
  });
  child.stdout.on('data', () => {
    for (const w of watchers) w();
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  // Resolves once stdout or stderr has shown `text` (e.g. sniff's 'listening on'), or the program ended.
  const said = (text: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (stderr.includes(text) || stdout.includes(text)) resolve();
      };
      watchers.push(check);
      check();
      void done.then(() => resolve());
    });
  return { wait: () => done, kill: (signal = 'SIGINT') => child.kill(signal), said };
}

export const isRoot = process.getuid?.() === 0;

/** A port nothing listens on: bound then released. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A kernel TCP server on 127.0.0.1 (an ephemeral port) running `handler` per connection; kept in `servers` for closing. */
export async function serveTcp(servers: net.Server[], handler: (s: net.Socket) => void, options: net.ServerOpts = {}): Promise<number> {
  const server = net.createServer(options, (s) => {
    s.on('error', () => undefined);
    handler(s);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}
