/**
 * What every exercise script shares: its arguments (falling back to the lab's environment),
 * how it reports (`RESULT <json>` for the runner; everything else is for the learner), and a
 * clean exit (shared captures closed, stdout flushed).
 */
// The public entry registers link types and display hooks that capture and summary() need.
import '../../index.js';
import { closeSharedCaptures } from '../../io/capture-hub.js';
import type { Packet } from '../../packet/packet.js';
import { TCPLayer, formatTCPFlags } from '../../layers/tcp.js';
import { basename } from 'node:path';
import { isIPv4, isIPv6 } from '../../wire/addr.js';
import { SynackError } from '../../wire/errors.js';

const script = basename(process.argv[1] ?? 'exercise').replace(/\.[jt]s$/, '');

/** One line on stderr and the exit code: a usage mistake is 2, anything else that went wrong 1. */
function fail(message: string, code: number): never {
  process.stderr.write(`${script}: ${message.split('\n')[0]}\n`);
  closeSharedCaptures();
  process.exit(code);
}

// What goes wrong in an exercise (no server: connection refused; no answer: a timeout) is one
// line naming it, never a stack: the learner reads these.
const oneLine = (err: unknown): never => {
  if (err instanceof SynackError) fail(err.message, err.kind === 'usage' ? 2 : 1);
  const e = err as NodeJS.ErrnoException;
  fail(e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err), 1);
};
process.on('uncaughtException', oneLine);
process.on('unhandledRejection', oneLine);

/** Positional argument `i`, or the environment variable, or the default; exits with usage otherwise. */
export function arg(i: number, name: string, fallback?: string): string {
  const v = process.argv[2 + i] ?? fallback;
  if (v === undefined) fail(`missing argument ${i + 1}: ${name}`, 2);
  return v;
}

/** An address argument: IPv4 or IPv6 only (names are never looked up). */
export function addrArg(i: number, name: string, fallback?: string): string {
  const v = arg(i, name, fallback);
  if (!isIPv4(v) && !isIPv6(v)) fail(`argument ${i + 1} (${name}) '${v}' is not an IPv4 or IPv6 address`, 2);
  return v;
}

/** A port argument, 1-65535. */
export function portArg(i: number, name: string): number {
  const v = arg(i, name);
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) fail(`argument ${i + 1} (${name}) '${v}' is not a port (1-65535)`, 2);
  return n;
}

/** A whole-number argument from 0 to `max`. */
export function intArg(i: number, name: string, fallback: string, max: number): number {
  const v = arg(i, name, fallback);
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= max)) fail(`argument ${i + 1} (${name}) '${v}' is not a whole number from 0 to ${max}`, 2);
  return n;
}

/** The address of a lab host from the runner's environment (SYNACK_LAB_SERVER_V4 ...). */
export function labAddr(host: string, family: 4 | 6 = 4): string | undefined {
  return process.env[`SYNACK_LAB_${host.toUpperCase()}_V${family}`];
}

export function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** 'S', 'SA', 'FA', 'R'... as Scapy writes TCP flags; undefined for a packet without TCP. */
export function tcpFlags(p: Packet | undefined): string | undefined {
  const tcp = p?.getLayer(TCPLayer);
  return tcp ? formatTCPFlags(tcp.flagBits) : undefined;
}

/** Prints the RESULT line, releases the wire, and exits once stdout has been written. */
export function finish(result: unknown, code = 0): void {
  closeSharedCaptures();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(code));
}
