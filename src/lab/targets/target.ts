/**
 * A target server, run inside a lab host: `node target.js KIND PORT [ADDRESS]`. It listens on
 * ADDRESS, or on every address (v4 and v6) when none is given, prints `ready KIND PORT` once it is listening, then one line per event
 * (`accepted ADDR PORT`, `data ...`, `error CODE`, `closed ADDR PORT`), which `lab serve`
 * keeps in a log file so that the learner (and the tests) can see what the server saw.
 *
 * Only node: imports, so it runs the same from dist or from sources.
 */
import net from 'node:net';
import http from 'node:http';

const NODE_KINDS = ['get', 'get-slow', 'echo', 'never-close', 'http'] as const;
type NodeKind = (typeof NODE_KINDS)[number];

const kind = process.argv[2] as NodeKind;
const port = Number(process.argv[3]);

function log(line: string): void {
  process.stdout.write(line + '\n');
}

function peer(socket: net.Socket): string {
  return `${socket.remoteAddress?.replace(/^::ffff:/, '')} ${socket.remotePort}`;
}

/** Every connection logs what happens to it; `onData` is the kind's behaviour. */
function tcpServer(onData: (socket: net.Socket, data: Buffer) => void, allowHalfOpen = false): net.Server {
  return net.createServer({ allowHalfOpen }, (socket) => {
    const who = peer(socket);
    log(`accepted ${who}`);
    socket.on('data', (data) => {
      log(`data ${JSON.stringify(String(data))}`);
      onData(socket, data);
    });
    socket.on('end', () => log(`fin ${who}`));
    socket.on('error', (err: NodeJS.ErrnoException) => log(`error ${err.code ?? err.message} ${who}`));
    socket.on('close', () => log(`closed ${who}`));
  });
}

/** The seed's server: '200 ok' to 'get', then close (after `delayMs`). */
function getServer(delayMs: number): net.Server {
  return tcpServer((socket, data) => {
    if (String(data).trim() !== 'get') return;
    socket.write('200 ok');
    if (delayMs > 0) setTimeout(() => socket.end(), delayMs);
    else socket.end();
  });
}

function httpServer(): http.Server {
  // GET /bytes/N answers N bytes (for watching windows and retransmissions); anything else a greeting.
  const server = http.createServer((req, res) => {
    log(`http ${req.method} ${req.url} from ${req.socket.remoteAddress?.replace(/^::ffff:/, '')}`);
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (m) {
      const n = Math.min(Number(m[1]), 64 * 1024 * 1024);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let left = n;
      const pump = (): void => {
        while (left > 0) {
          const piece = chunk.subarray(0, Math.min(left, chunk.length));
          left -= piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from the synack lab\n');
  });
  server.on('connection', (socket) => log(`accepted ${peer(socket)}`));
  return server;
}

function make(k: NodeKind): net.Server {
  switch (k) {
    case 'get':
      return getServer(0);
    case 'get-slow':
      return getServer(100);
    case 'echo':
      return tcpServer((socket, data) => socket.write(data));
    case 'never-close':
      // Half-open allowed and never ended: the client's FIN leaves this socket in CLOSE_WAIT.
      return tcpServer(() => undefined, true);
    case 'http':
      return httpServer();
  }
}

if (!NODE_KINDS.includes(kind) || !(port >= 1 && port <= 65535)) {
  process.stderr.write(`usage: target.js ${NODE_KINDS.join('|')} PORT\n`);
  process.exit(2);
}
const server = make(kind);
server.on('error', (err: NodeJS.ErrnoException) => {
  process.stderr.write(`target ${kind}: ${err.code ?? err.message}\n`);
  process.exit(1);
});
// '::' with ipv6Only false takes IPv4 too (as ::ffff:a.b.c.d).
// An address as the third argument (synack serve on loopback); every address otherwise.
const host = process.argv[4] ?? '::';
server.listen({ port, host, ...(host === '::' ? { ipv6Only: false } : {}) }, () => log(`ready ${kind} ${port}`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
