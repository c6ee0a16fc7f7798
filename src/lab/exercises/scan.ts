/**
 * SYN scan against connect scan:
 *   scan syn     DST FROM-TO   half-open: SYN, the SYN-ACK tells "open", and our kernel's RST ends it
 *   scan connect DST FROM-TO   the kernel's connect(): a full handshake (and a close) per open port
 * The server's application sees every connect-scan connection, and none of the SYN scan.
 */
import net from 'node:net';
import { IP, TCP } from '../../packet/factories.js';
import { sr } from '../../sr/index.js';
import { addrArg, arg, finish, labAddr, say, tcpFlags } from './_common.js';

const mode = arg(0, 'mode (syn or connect)');
const dst = addrArg(1, 'destination address', labAddr('server'));
const [from, to] = arg(2, 'port range FROM-TO').split('-').map(Number) as [number, number];
const ports = Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
if (ports.length > 1024) throw new Error('scan at most 1024 ports in the lab');

const open: number[] = [];
const closed: number[] = [];
const filtered: number[] = [];

if (mode === 'syn') {
  const sport = 40000 + Math.floor(Math.random() * 20000);
  const probes = ports.map((dport) => IP({ dst }).add(TCP({ sport, dport, flags: 'S' })));
  const { answered, unanswered } = await sr(probes, { timeout: 1000 });
  for (const [sent, reply] of answered) {
    const port = sent.getLayer('TCP')!.get('dport' as never) as number;
    (tcpFlags(reply) === 'SA' ? open : closed).push(port);
  }
  for (const p of unanswered) filtered.push(p.getLayer('TCP')!.get('dport' as never) as number);
} else {
  await Promise.all(
    ports.map(
      (port) =>
        new Promise<void>((resolve) => {
          const s = net.connect({ host: dst, port, timeout: 1000 });
          s.once('connect', () => {
            open.push(port);
            s.end();
            resolve();
          });
          s.once('timeout', () => {
            filtered.push(port);
            s.destroy();
            resolve();
          });
          s.once('error', (err: NodeJS.ErrnoException) => {
            (err.code === 'ECONNREFUSED' ? closed : filtered).push(port);
            resolve();
          });
        }),
    ),
  );
}
for (const list of [open, closed, filtered]) list.sort((a, b) => a - b);
say(`${mode} scan of ${dst} ports ${from}-${to}: open ${open.join(',') || 'none'}; ${closed.length} closed; ${filtered.length} filtered`);
finish({ mode, open, closed: closed.length, filtered: filtered.length });
