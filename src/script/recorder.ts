/**
 * The recorder: drive a conversation from the command line (connect, send some data, close one
 * of four ways), then write what happened as a script that passes against the same server.
 *
 * Numbers become relative the way the runner reads them back: our sequence space from our ISN,
 * the server's from its ISN, our TS val from 100 and the server's from 1000 (each side's first
 * value), SACK blocks in the other side's space. Times are '+' seconds after the previous
 * segment. The server's window is written only on its SYN-ACK and RSTs: later windows follow its
 * read timing and buffer tuning, so a replay checks everything else but those.
 */
import { TCPFlag, TCPLayer } from '../layers/tcp.js';
import { ephemeralPort, openConversation } from '../tcp/connect.js';
import type { Conversation, TraceEntry } from '../tcp/conversation.js';
import { SynackError, usageError } from '../wire/errors.js';
import type { ScriptOption } from './ast.js';
import { formatPacketLine } from './format.js';
import { fromTCPOption } from './options.js';
import { formatTarget, parseTarget, type Target } from './target.js';
import { RawLayer } from '../layers/raw.js';

export type CloseMode = 'active' | 'passive' | 'abort' | 'none';
export const CLOSE_MODES: readonly CloseMode[] = ['active', 'passive', 'abort', 'none'];

export interface RecordOptions {
  target: string | Target;
  /** Data to send, in order, each once the previous is acknowledged. */
  send?: Array<string | Buffer>;
  /**
   * How it ends: 'active' we close (FIN) after the server has had its say, 'passive' we wait
   * for the server's FIN first, 'abort' we send RST, 'none' we just stop.
   */
  close?: CloseMode;
  /** How long to listen after each send, and before closing, in ms (default 200). */
  wait?: number;
  /** Handshake and teardown timeout in ms (default 2000). */
  timeout?: number;
  sport?: number;
}

export interface Recording {
  script: string;
  trace: readonly TraceEntry[];
  /** The conversation's final RFC 9293 state. */
  state: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const OUR_TS_ORIGIN = 100;
/** Our segments sent sooner than this after the previous one were reactions, written '+0'. */
const REACTION_LIMIT = 0.05;
export const SERVER_TS_ORIGIN = 1000;

/** Drives the conversation and returns it written as a script. */
export async function recordConversation(opts: RecordOptions): Promise<Recording> {
  const target = typeof opts.target === 'string' ? parseTarget(opts.target) : opts.target;
  const close = opts.close ?? 'active';
  if (!CLOSE_MODES.includes(close)) throw usageError(`unknown close mode '${String(close)}': use ${CLOSE_MODES.join(', ')}`);
  const wait = opts.wait ?? 200;
  const timeout = opts.timeout ?? 2000;
  const c = await openConversation({ dst: target.host, dport: target.port, sport: opts.sport ?? ephemeralPort() }, {});
  let refused = false;
  try {
    try {
      await c.handshake(timeout);
    } catch (err) {
      // A RST (closed port) or silence is something to record too.
      if (!(err instanceof SynackError) || (err.kind !== 'timeout' && c.state !== 'CLOSED')) throw err;
      refused = true;
    }
    if (!refused) {
      for (const data of opts.send ?? []) {
        await c.send(data, { timeout });
        await sleep(wait);
      }
      if (!opts.send?.length) await sleep(wait);
      if (close === 'passive') await untilPeerFin(c, timeout);
      // A server that never closes leaves us in FIN-WAIT-2: that is a result to record, not an error.
      if (close === 'active' || close === 'passive') await c.close({ timeout }).catch(ignoreTimeout);
      else if (close === 'abort') await c.abort();
      else await sleep(0);
    }
  } finally {
    await c.release();
  }
  const header = [
    `// recorded by synack script --record ${formatTarget(target)}`,
    `// sent: ${(opts.send ?? []).map((d) => JSON.stringify(String(d))).join(', ') || 'nothing'}; close: ${refused ? 'refused' : close}; final state ${c.state}`,
  ];
  return { script: traceToScript(c, target, header), trace: c.trace, state: c.state };
}

function ignoreTimeout(err: unknown): void {
  if (!(err instanceof SynackError) || err.kind !== 'timeout') throw err;
}

async function untilPeerFin(c: Conversation, timeout: number): Promise<void> {
  const deadline = performance.now() + timeout;
  while (performance.now() < deadline && c.state !== 'CLOSE-WAIT' && c.state !== 'CLOSED' && c.state !== 'TIME-WAIT') {
    const chunk = await c.recv({ timeout: Math.max(1, deadline - performance.now()) }).catch(() => undefined);
    if (chunk === undefined || chunk.length === 0) break;
  }
}

/** A finished conversation as script text. */
export function traceToScript(c: Conversation, target: Target, header: string[] = []): string {
  const trace = c.trace;
  const ourIsn = c.iss;
  const firstIn = trace.find((e) => e.direction === 'in');
  const synAck = trace.find((e) => e.direction === 'in' && (e.packet.layer(TCPLayer).flagBits & TCPFlag.S) !== 0);
  const serverIsn = synAck ? synAck.packet.layer(TCPLayer).get('seq') as number : firstIn ? firstIn.packet.layer(TCPLayer).get('seq') as number : 0;
  const firstTs = (dir: 'in' | 'out'): number | undefined => {
    for (const e of trace) {
      if (e.direction !== dir) continue;
      const ts = (e.packet.layer(TCPLayer).get('options') ?? []).find((o) => o[0] === 'Timestamp');
      if (ts && Array.isArray(ts[1])) return (ts[1] as readonly number[])[0];
    }
    return undefined;
  };
  const ourTs = firstTs('out');
  const serverTs = firstTs('in');
  const mapOurTs = (v: number): number => (ourTs === undefined || v === 0 ? v : (v - ourTs + OUR_TS_ORIGIN) >>> 0);
  const mapServerTs = (v: number): number => (serverTs === undefined || v === 0 ? v : (v - serverTs + SERVER_TS_ORIGIN) >>> 0);
  const rel = (n: number, isn: number): number => (n - isn) >>> 0;

  const lines = [
    ...header,
    `target ${formatTarget(target)}`,
    '// a slow moment here can make the server retransmit; repeats of its last segment are skipped',
    'retransmits allow',
    '',
  ];
  const firstEvent = lines.length;
  const seen = new Set<string>();
  let previous: number | undefined;
  for (const e of trace) {
    const tcp = e.packet.layer(TCPLayer);
    const fromServer = e.direction === 'in';
    const flags = tcp.flagBits;
    const raw = e.packet.getLayer(RawLayer);
    const payload = raw && raw.name === 'Raw' ? raw.load : Buffer.alloc(0);
    const options = (tcp.get('options') ?? []).map(fromTCPOption).map((o): ScriptOption => {
      if (o.kind === 'TS') return fromServer ? { kind: 'TS', val: mapServerTs(o.val), ecr: mapOurTs(o.ecr) } : { kind: 'TS', val: mapOurTs(o.val), ecr: mapServerTs(o.ecr) };
      if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map(([l, r]) => (fromServer ? [rel(l, ourIsn), rel(r, ourIsn)] : [rel(l, serverIsn), rel(r, serverIsn)])) };
      return o;
    });
    const ackFlag = (flags & TCPFlag.A) !== 0;
    const ack = tcp.get('ack') as number;
    const seq = rel(tcp.get('seq') as number, fromServer ? serverIsn : ourIsn);
    const showWin = !fromServer || (flags & (TCPFlag.S | TCPFlag.R)) !== 0;
    const seconds = e.time / 1000;
    let delta = previous === undefined ? 0 : Math.max(0, Math.round((seconds - previous) * 1000) / 1000);
    // Our quick reactions were as fast as this machine could go: a replay sends them at once.
    if (!fromServer && delta < REACTION_LIMIT) delta = 0;
    const text = formatPacketLine({
      time: lines.length === firstEvent ? { kind: 'absolute', at: 0 } : { kind: 'relative', at: delta },
      direction: fromServer ? '>' : '<',
      flags,
      seq,
      length: payload.length,
      ack: ackFlag ? rel(ack, fromServer ? ourIsn : serverIsn) : undefined,
      win: showWin ? (tcp.get('window') as number) : undefined,
      options: options.length === 0 ? undefined : options,
      payload: payload.length ? payload : undefined,
      urg: undefined,
      ecn: undefined,
      conn: undefined,
    });
    // Align the direction column, as packetdrill scripts usually are.
    const [time, ...rest] = text.split(' ');
    const line = `${time!.padEnd(7)} ${rest.join(' ')}`;
    // A segment of the server's that takes sequence space a second time is a retransmission.
    const key = `${flags}:${seq}:${payload.length}`;
    const occupies = payload.length > 0 || (flags & (TCPFlag.S | TCPFlag.F)) !== 0;
    if (fromServer && occupies && seen.has(key)) {
      lines.push(`// ${line}   (a retransmission)`);
      continue;
    }
    if (fromServer && occupies) seen.add(key);
    lines.push(line);
    previous = seconds;
  }
  return lines.join('\n') + '\n';
}
