/**
 * Field-by-field comparison of a segment the server sent with the script line it must match,
 * in the order a reader checks them: flags, seq, length, ack, window, options, payload. The
 * first difference is the verdict, in packetdrill's words: "expected ack 4, got ack 1".
 */
import type { PacketLine, ScriptOption } from './ast.js';
import { formatScriptFlags } from './flags.js';
import { formatPayload, type SegmentView } from './format.js';
import { formatOption, formatOptions } from './options.js';
import { ecnMatches } from './ecn.js';
import { TCPFlag } from '../layers/tcp.js';

export type CheckField = 'ecn' | 'flags' | 'seq' | 'length' | 'ack' | 'win' | 'urg' | 'options' | 'payload' | 'time' | 'segment' | 'quiet' | 'result' | 'errno' | 'value' | 'shell';

export interface Mismatch {
  field: CheckField;
  expected: string;
  got: string;
}

export interface CheckOptions {
  /**
   * The server's previous TS val (script terms). Its clock runs on its own, so a TS val is not
   * compared with the script's (packetdrill does the same); it only must never go backwards.
   */
  lastServerTsVal?: number | undefined;
  /** Leave the PSH bit out of the flags comparison (`psh ignore`). */
  ignorePsh?: boolean | undefined;
}

/** The first field of `live` that differs from `line`, or undefined when the segment matches. */
export function compareSegment(line: PacketLine, live: SegmentView, opts: CheckOptions): Mismatch | undefined {
  if (line.ecn !== undefined && !ecnMatches(line.ecn, live.ecn)) return { field: 'ecn', expected: `[${line.ecn}]`, got: `[${live.ecn}]` };
  const mask = opts.ignorePsh ? ~TCPFlag.P : ~0;
  if ((live.flags & mask) !== (line.flags & mask)) return { field: 'flags', expected: `flags ${formatScriptFlags(line.flags)}`, got: `flags ${formatScriptFlags(live.flags)}` };
  if (live.seq !== line.seq) return { field: 'seq', expected: `seq ${line.seq}`, got: `seq ${live.seq}` };
  if (live.length !== line.length) return { field: 'length', expected: `length ${line.length}`, got: `length ${live.length}` };
  if (line.ack !== undefined && live.ack !== line.ack) return { field: 'ack', expected: `ack ${line.ack}`, got: `ack ${live.ack}` };
  if (line.win !== undefined && live.win !== line.win) return { field: 'win', expected: `win ${line.win}`, got: `win ${live.win}` };
  if (line.urg !== undefined && live.urg !== line.urg) return { field: 'urg', expected: `urg ${line.urg}`, got: `urg ${live.urg}` };
  if (line.options !== 'any') {
    const m = compareOptions(line.options ?? [], live.options, opts.lastServerTsVal);
    if (m) return m;
  }
  if (line.payload !== undefined && !line.payload.equals(live.payload)) {
    return { field: 'payload', expected: `payload ${formatPayload(line.payload, 40)}`, got: `payload ${formatPayload(live.payload, 40)}` };
  }
  return undefined;
}

function compareOptions(expected: readonly ScriptOption[], live: readonly ScriptOption[], lastTsVal: number | undefined): Mismatch | undefined {
  const whole = (): Mismatch => ({ field: 'options', expected: `options ${formatOptions(expected) || '<>'}`, got: `options ${formatOptions(live) || '<>'}` });
  if (expected.length !== live.length) return whole();
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const l = live[i]!;
    if (e.kind !== l.kind) return whole();
    if (e.kind === 'TS' && l.kind === 'TS') {
      if (lastTsVal !== undefined && ((l.val - lastTsVal) | 0) < 0) return { field: 'options', expected: `TS val ${lastTsVal} or later (timestamps never go back)`, got: `TS val ${l.val}` };
      if (l.ecr !== e.ecr) return { field: 'options', expected: `TS ecr ${e.ecr}`, got: `TS ecr ${l.ecr}` };
      continue;
    }
    if (formatOption(e) !== formatOption(l)) return { field: 'options', expected: formatOption(e), got: formatOption(l) };
  }
  return undefined;
}
