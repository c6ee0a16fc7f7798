/**
 * The handshake and teardown variants, driven by hand from the client:
 *   handshake get        DST PORT   'get' -> '200 ok', the server closes at once (its FIN follows the data)
 *   handshake get-slow   DST PORT   the same, the server's FIN 0.1 s later: four segments to close
 *   handshake echo       DST PORT   we close first: FIN, ACK, FIN, ACK and we wait in TIME-WAIT
 *   handshake never-close DST PORT  we close, the server never does: we stay in FIN-WAIT-2, it in CLOSE-WAIT
 *   handshake closed     DST PORT   a SYN to a port nobody listens on (or only bound): RST
 */
import { IP, TCP } from '../../packet/factories.js';
import { sr1 } from '../../sr/index.js';
import { connect } from '../../tcp/connect.js';
import type { Conversation } from '../../tcp/conversation.js';
import { addrArg, arg, finish, labAddr, portArg, say, tcpFlags } from './_common.js';

const variant = arg(0, 'variant (get, get-slow, echo, never-close, closed)');
const dst = addrArg(1, 'destination address', labAddr('server'));
const dport = portArg(2, 'port');

/** Prints the trace; returns it as [direction + flags (+ ' data'), ms] pairs for the RESULT. */
function show(c: Conversation): Array<[string, number]> {
  const lines: Array<[string, number]> = [];
  for (const e of c.trace) {
    say(`${e.time.toFixed(3).padStart(9)} ms  ${e.direction === 'out' ? '>' : '<'} ${e.packet.summary()}   -> ${e.state}`);
    lines.push([`${e.direction} ${tcpFlags(e.packet)}${e.packet.getLayer('Raw') ? ' data' : ''}`, Math.round(e.time * 10) / 10]);
  }
  return lines;
}

if (variant === 'closed') {
  const reply = await sr1(IP({ dst }).add(TCP({ sport: 40000 + Math.floor(Math.random() * 20000), dport, flags: 'S' })), { timeout: 1000 });
  say(reply ? `< ${reply.summary()}` : 'no answer');
  finish({ variant, reply: tcpFlags(reply) ?? null });
} else {
  const c = await connect({ dst, dport, timeout: 2000 });
  let reply = '';
  let note = '';
  if (variant === 'get' || variant === 'get-slow') {
    await c.send('get');
    reply = String(await c.recv({ timeout: 2000 }));
    const end = await c.recv({ timeout: 2000 });
    note = end.length === 0 ? 'server FIN seen' : '';
    await c.close({ timeout: 2000 });
  } else if (variant === 'echo') {
    await c.send('hello');
    reply = String(await c.recv({ timeout: 2000 }));
    await c.close({ timeout: 2000 });
  } else if (variant === 'never-close') {
    await c.send('hello');
    // Our FIN is acknowledged, the server's never comes: close() gives up, leaving us in FIN-WAIT-2.
    await c.close({ timeout: 500 }).catch((err: Error) => (note = err.message));
  } else {
    await c.abort();
    throw new Error(`unknown variant ${variant}`);
  }
  const segments = show(c);
  say(`final state ${c.state}${reply ? `; received '${reply}'` : ''}${note ? ` (${note})` : ''}`);
  finish({ variant, reply, segments, state: c.state });
}
