/**
 * `synack view`'s server: the one page on 127.0.0.1 at a free port, nothing else (any other
 * path is 404, any other method 405). It holds no file and starts no process of its own
 * except, when a desktop is there, the desktop's opener for the address.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ViewServer {
  url: string;
  /** Stops listening and drops open connections; resolves when the socket is closed. */
  close(): Promise<void>;
}

export function serveView(html: string, port = 0): Promise<ViewServer> {
  const body = Buffer.from(html, 'utf8');
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (req.url !== '/' && req.url !== '/index.html') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the view is at /\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${bound}/`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** Whether a desktop session is there to open a browser in. */
export function hasDesktop(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

/** Asks the desktop to open `url` (xdg-open); a machine without it just keeps the printed address. */
export function openInBrowser(url: string): void {
  try {
    const child = spawn('xdg-open', [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener: the address is printed all the same.
  }
}
