/**
 * The servers that the conversation scripts in examples/scripts/ run against: small Node `net`
 * servers on 127.0.0.1 random ports, one behaviour each, and ports with nobody listening.
 */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';

export interface TestServer {
  port: number;
  close(): Promise<void>;
}

export type ServerKind =
  /** Answers 'get' with '200 ok' and closes at once (the server closes first). */
  | 'get-close'
  /** Answers 'get' with '200 ok' and closes when the client does (Node's default half-close). */
  | 'get-keep'
  /** Answers 'get' with '200 ok' and never closes, not even after the client's FIN: CLOSE_WAIT. */
  | 'never-close'
  /** Answers 'get' with one megabyte (BULK_BYTES, bytes 0..250 repeating) in one write, and closes. */
  | 'bulk';

/** What the 'bulk' server sends: 1 MB. */
export const BULK_BYTES = 1 << 20;

function bulkBody(): Buffer {
  const b = Buffer.alloc(BULK_BYTES);
  for (let i = 0; i < b.length; i++) b[i] = i % 251;
  return b;
}

export async function startServer(kind: ServerKind): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: kind === 'never-close' }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (String(data).trim() !== 'get') return;
      if (kind === 'bulk') {
        socket.end(bulkBody());
        return;
      }
      socket.write('200 ok');
      if (kind === 'get-close') socket.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound a moment, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A socket bound to a port but not listening (Node cannot do that: a Python child holds it). */
export async function boundNotListening(): Promise<TestServer & { child: ChildProcess }> {
  const code = [
    'import socket, sys, time',
    's = socket.socket()',
    "s.bind(('127.0.0.1', 0))",
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    setTimeout(() => reject(new Error('python3 did not report its bound port')), 5000).unref();
  });
  return {
    port,
    child,
    close: async () => {
      child.stdin!.end();
      child.kill();
    },
  };
}

/**
 * The clients that the listening-role scripts of examples/scripts/ run with (`--listen PORT
 * --client CMD`): Python one-liners connecting to 127.0.0.1:PORT, one behaviour each.
 */
export const LISTEN_CLIENTS: Record<string, (port: number) => string> = {
  /** Connects, sends 'get', reads the answer, closes. */
  'listen-get': (port) => python(`s=socket.create_connection(('127.0.0.1',${port})); s.sendall(b'get'); s.recv(10); s.close()`),
  /** Opens a, then b; 'get' on a, reads, closes a; then 'get' on b, reads, closes b. */
  'listen-two-clients': (port) =>
    python(`a=socket.create_connection(('127.0.0.1',${port})); b=socket.create_connection(('127.0.0.1',${port})); a.sendall(b'get'); a.recv(10); a.close(); b.sendall(b'get'); b.recv(10); b.close()`),
  /** Connects and holds the connection open for 3 s (stopped sooner when the script ends). */
  'listen-challenge-ack': (port) => python(`s=socket.create_connection(('127.0.0.1',${port})); __import__('time').sleep(3)`),
  /** As listen-get: connects, sends 'get', reads the answer, closes. */
  'listen-zero-window-probe': (port) => python(`s=socket.create_connection(('127.0.0.1',${port})); s.sendall(b'get'); s.recv(10); s.close()`),
  /** Connects, and is refused (prints the error it got). */
  'listen-refuse': (port) => python(`\ntry: socket.create_connection(('127.0.0.1',${port}))\nexcept ConnectionRefusedError as e: print(e)`),
  /**
   * Connects, sends 'get', reads until the server closes, waits 0.3 s (longer than Linux's
   * longest delayed ACK, 200 ms, so its ACK of our FIN goes alone), then closes.
   */
  'listen-server-closes-first': (port) => python(`s=socket.create_connection(('127.0.0.1',${port})); s.sendall(b'get')\nwhile s.recv(100): pass\n__import__('time').sleep(0.3); s.close()`),
};

/** A Python client as a shell command (the system Python, so that it is the same everywhere). */
function python(code: string): string {
  return `exec /usr/bin/python3 -c "import socket; ${code.replace(/"/g, '\\"')}"`;
}
