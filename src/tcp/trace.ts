/**
 * A conversation's trace as tcpdump prints it (`tcpdump -nn`, relative sequence numbers per
 * flow, wall-clock timestamps), optionally with our state after each segment, and as a ladder.
 */
import { createPrinter } from '../show/printer.js';
import { renderLadder, renderLadderSvg, type LadderOptions } from '../show/ladder.js';
import type { TraceEntry } from './conversation.js';

export interface TraceLineOptions {
  /** -S: absolute sequence numbers. */
  absolute?: boolean;
  /** Append our state after each segment (default true). */
  states?: boolean;
}

/** One tcpdump line per segment, in the order the conversation saw them. */
export function traceLines(trace: readonly TraceEntry[], opts: TraceLineOptions = {}): string[] {
  const printer = createPrinter({ absolute: opts.absolute ?? false });
  const width = opts.states === false ? 0 : Math.max(0, ...trace.map((e) => printer.formatPacket(e.packet).length));
  printer.reset();
  return trace.map((e) => {
    const line = printer.formatPacket(e.packet);
    return opts.states === false ? line : `${line.padEnd(width)}  ${e.direction === 'out' ? '>' : '<'} ${e.state}`;
  });
}

/** The ladder diagram of a trace (terminal text). */
export function traceLadder(trace: readonly TraceEntry[], opts: LadderOptions = {}): string {
  return renderLadder(trace, opts);
}

/** The ladder diagram of a trace as an SVG document. */
export function traceLadderSvg(trace: readonly TraceEntry[], opts: LadderOptions = {}): string {
  return renderLadderSvg(trace, opts);
}
