/**
 * `synack demo`: the README's main job. A local server answers 'get' with '200 ok' and closes
 * at once; synack drives the client side by hand (handshake, data, the peer's FIN, our close)
 * and prints every segment as tcpdump prints it, with our state after each, then the ladder.
 * `synack demo SCENARIO` runs one of the seed scenarios (src/demo/scenarios.ts, which the
 * examples run too); `--list` names them.
 */
import net from 'node:net';
import type { Command } from 'commander';
import { connect } from '../tcp/connect.js';
import { renderLadder } from '../show/ladder.js';
import { createPrinter } from '../show/printer.js';
import { requireRoot } from './privilege.js';
import { action } from './run.js';
import { didYouMean, usageError } from '../wire/errors.js';
import { out as write } from './common.js';
import { writeHtmlView } from './view.js';
import type { ScenarioResult } from '../demo/scenarios.js';

type Scenarios = typeof import('../demo/scenarios.js');

/** The seed scenarios by name, each with what it shows. */
const SCENARIOS: ReadonlyArray<{ name: string; what: string; run: keyof Scenarios }> = [
  { name: 'three-packet-close', what: "3-way open, 'get' and '200 ok', the server closes at once: FIN merged with the ACK (3 packets)", run: 'threePacketClose' },
  { name: 'four-packet-close', what: "3-way open and data, the server closes 0.1 s later: the 4-way close", run: 'fourPacketClose' },
  { name: 'client-closes-first', what: 'we close first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT', run: 'clientClosesFirst' },
  { name: 'simultaneous-close', what: 'both FINs cross: CLOSING on both sides', run: 'simultaneousClose' },
  { name: 'close-wait', what: 'the server application never closes: its socket sits in CLOSE_WAIT', run: 'closeWaitLeft' },
  { name: 'time-wait', what: 'the first closer keeps TIME_WAIT', run: 'timeWaitOnFirstCloser' },
  { name: 'closed-port', what: 'SYN to a closed port: RST', run: 'synToClosedPort' },
  { name: 'bound-not-listening', what: 'SYN to a port bound but not listening: RST all the same', run: 'boundNotListening' },
  { name: 'full-backlog', what: 'a listener with backlog 1 that never accepts: later SYNs go unanswered', run: 'fullBacklog' },
  { name: 'listen', what: 'we are the server (listen()), a kernel client talks to us', run: 'handMadeServer' },
];

interface DemoOptions {
  slowClose?: boolean;
  list?: boolean;
  absolute?: boolean;
  svg?: string;
  html?: string;
}

async function runScenario(name: string, opts: DemoOptions): Promise<number> {
  const entry = SCENARIOS.find((s) => s.name === name);
  if (!entry) throw usageError(`no scenario '${name}'${didYouMean(name, SCENARIOS.map((s) => s.name))}; synack demo --list names them`);
  requireRoot('synack demo');
  const scenarios = await import('../demo/scenarios.js');
  const { printScenario, writeLadders } = await import('../demo/report.js');
  const r = (await (scenarios[entry.run] as () => Promise<ScenarioResult>)()) as ScenarioResult;
  const lines: string[] = [];
  printScenario(r, (s) => lines.push(s), { absolute: opts.absolute ?? false });
  write(lines.join('\n') + '\n');
  if (opts.svg) for (const path of writeLadders(r, opts.svg, { absolute: opts.absolute ?? false })) write(`\nladder written to ${path}\n`);
  if (opts.html) await writeHtmlView(opts.html, (await import('../view/index.js')).mergeTraces(r.conversations), `synack demo ${name}`);
  return 0;
}

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
    .description("a scripted handshake and teardown against a built-in local server, as tcpdump lines and a ladder; or one of the seed scenarios")
    .argument('[scenario]', `a seed scenario: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('--slow-close', 'the server closes 0.1 s after answering (the 4-packet close)')
    .option('--list', 'list the scenarios')
    .option('-S, --absolute', 'absolute TCP sequence numbers (default relative, as tcpdump)')
    .option('--svg <file>', 'with a scenario: also write each conversation as an SVG ladder (FILE, or FILE-1.svg, FILE-2.svg...)')
    .option('--html <out>', 'also write the conversation(s) as a self-contained HTML view (list, layers, bytes, ladder)')
    .addHelpText('after', '\nExamples:\n  sudo synack demo\n  sudo synack demo --slow-close\n  synack demo --list\n  sudo synack demo simultaneous-close\n  sudo synack demo full-backlog --svg backlog.svg')
    .action(
      action(async (scenario: string | undefined, opts: DemoOptions) => {
        if (opts.list) {
          const width = Math.max(...SCENARIOS.map((s) => s.name.length));
          write(SCENARIOS.map((s) => `${s.name.padEnd(width)}  ${s.what}`).join('\n') + '\n');
          return 0;
        }
        if (scenario !== undefined) return runScenario(scenario, opts);
        requireRoot('synack demo');
        const server = await startGetServer('127.0.0.1', opts.slowClose ? 100 : 0);
        try {
          const port = (server.address() as net.AddressInfo).port;
          write(`server: 127.0.0.1.${port} answers 'get' with '200 ok', then closes\n\n`);
          const c = await connect({ dst: '127.0.0.1', dport: port, timeout: 2000 });
          await c.send('get');
          const reply = await c.recv({ timeout: 2000 });
          // The server closes right after answering: its FIN ends the data (recv returns empty).
          const end = await c.recv({ timeout: 2000 });
          await c.close({ timeout: 2000 });
          // Relative sequence numbers, as tcpdump prints them (-S: absolute).
          const printer = createPrinter({ noTimestamp: true, absolute: opts.absolute ?? false });
          for (const e of c.trace) {
            write(`${e.time.toFixed(3).padStart(8)} ms  ${printer.formatPacket(e.packet)}\n${' '.repeat(13)}-> ${e.state}\n`);
          }
          write(`\nreceived '${String(reply)}'${end.length === 0 ? ', then the server\'s FIN' : ''}; final state ${c.state}\n\n`);
          write(renderLadder(c.trace, { left: `us 127.0.0.1.${c.endpoints.sport}`, right: `server 127.0.0.1.${port}`, absolute: opts.absolute ?? false }) + '\n');
          if (opts.html) await writeHtmlView(opts.html, c.trace, 'synack demo');
          return 0;
        } finally {
          server.close();
        }
      }),
    );
}
