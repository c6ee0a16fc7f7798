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

/** Positional argument `i`, or the environment variable, or the default; exits with usage otherwise. */
export function arg(i: number, name: string, fallback?: string): string {
  const v = process.argv[2 + i] ?? fallback;
  if (v === undefined) {
    process.stderr.write(`missing argument ${i + 1}: ${name}\n`);
    process.exit(2);
  }
  return v;
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
