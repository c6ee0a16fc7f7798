/**
 * `synack demo`: the README's main job. A local server answers 'get' with '200 ok' and closes
 * at once; synack drives the client side by hand (handshake, data, the peer's FIN, our close)
 * and prints every segment as tcpdump prints it, with our state after each, then the ladder.
 */
import net from 'node:net';
import type { Command } from 'commander';
import { connect } from '../tcp/connect.js';
import { renderLadder } from '../show/ladder.js';
import { requireRoot } from './privilege.js';
import { action } from './run.js';

/** The seed's server: reply '200 ok' to 'get', then close (`closeAfterMs` later, 0 = at once). */
export function startGetServer(host = '127.0.0.1', closeAfterMs = 0): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (data) => {
      if (String(data).trim() !== 'get') return;
      socket.write('200 ok');
      if (closeAfterMs > 0) setTimeout(() => socket.end(), closeAfterMs);
      else socket.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve(server));
  });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("a scripted handshake and teardown against a built-in local server, as tcpdump lines and a ladder")
    .option('--slow-close', 'the server closes 0.1 s after answering (the 4-packet close)')
    .addHelpText('after', '\nExamples:\n  sudo synack demo\n  sudo synack demo --slow-close')
    .action(
      action(async (opts: { slowClose?: boolean }) => {
        requireRoot('synack demo');
        const server = await startGetServer('127.0.0.1', opts.slowClose ? 100 : 0);
        try {
          const port = (server.address() as net.AddressInfo).port;
          const out = process.stdout;
          out.write(`server: 127.0.0.1.${port} answers 'get' with '200 ok', then closes\n\n`);
          const c = await connect({ dst: '127.0.0.1', dport: port, timeout: 2000 });
          await c.send('get');
          const reply = await c.recv({ timeout: 2000 });
          // The server closes right after answering: its FIN ends the data (recv returns empty).
          const end = await c.recv({ timeout: 2000 });
          await c.close({ timeout: 2000 });
          for (const e of c.trace) {
            out.write(`${e.time.toFixed(3).padStart(8)} ms  ${e.packet.summary()}\n${' '.repeat(13)}-> ${e.state}\n`);
          }
          out.write(`\nreceived '${String(reply)}'${end.length === 0 ? ', then the server\'s FIN' : ''}; final state ${c.state}\n\n`);
          out.write(renderLadder(c.trace, { left: `us 127.0.0.1.${c.endpoints.sport}`, right: `server 127.0.0.1.${port}` }) + '\n');
          return 0;
        } finally {
          server.close();
        }
      }),
    );
}
