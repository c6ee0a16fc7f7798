/**
 * The real servers the examples talk to: Node `net` servers that answer 'get' with '200 ok'
 * and then close in one of the ways a scenario needs, and Python sockets for what Node cannot
 * do (a port bound but not listening; a listener that never accepts). Each records the bytes
 * its application received, so a scenario can check that exactly what was sent arrived.
 */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';

/** When the server closes its side, after answering. */
export type ClosePolicy =
  /** end() right after writing '200 ok': the FIN follows the data at once. */
  | { kind: 'at-once' }
  /** end() this many ms after writing. */
  | { kind: 'after'; ms: number }
  /** Answer and end() together, this many ms after 'get' arrived. */
  | { kind: 'reply-later'; ms: number }
  /** Wait for the peer's FIN, then end() this many ms later. */
  | { kind: 'after-peer'; ms: number }
  /** Never close (the application forgets to): the kernel socket sits in CLOSE-WAIT. */
  | { kind: 'never' };

export interface ServerHandle {
  host: string;
  port: number;
  /** Everything the application read, per accepted connection, in order. */
  received: Buffer[];
  close(): Promise<void>;
}

export const REQUEST = 'get';
export const REPLY = '200 ok';

export async function startGetServer(policy: ClosePolicy, host = '127.0.0.1', port = 0): Promise<ServerHandle> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const index = received.push(Buffer.alloc(0)) - 1;
    let answered = false;
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      received[index] = Buffer.concat([received[index]!, data]);
      if (answered || !received[index]!.toString().includes(REQUEST)) return;
      answered = true;
      if (policy.kind === 'reply-later') later(policy.ms, () => socket.end(REPLY));
      else socket.write(REPLY);
      if (policy.kind === 'at-once') socket.end();
      else if (policy.kind === 'after') later(policy.ms, () => socket.end());
    });
    socket.on('end', () => {
      if (policy.kind === 'after-peer') later(policy.ms, () => socket.end());
      else if (policy.kind !== 'never' && policy.kind !== 'reply-later' && !answered) socket.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    received,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing is bound to right now (bound and released; the kernel will RST a SYN to it). */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface PythonSocket {
  port: number;
  close(): Promise<void>;
}

const PYTHON = process.env.SYNACK_PYTHON ?? '/usr/bin/python3';

/**
 * A Python socket doing what Node cannot: 'bind' binds without listen(); 'backlog' listens
 * with the given backlog and never calls accept(). It prints its port and lives until closed.
 */
export async function startPythonSocket(mode: 'bind' | { backlog: number }, host = '127.0.0.1'): Promise<PythonSocket> {
  const listen = mode === 'bind' ? '' : `s.listen(${mode.backlog})`;
  const code = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_STREAM)',
    `s.bind((${JSON.stringify(host)}, 0))`,
    listen,
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child: ChildProcess = spawn(PYTHON, ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python socket exited (${code}) before printing its port`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end();
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }),
  };
}
