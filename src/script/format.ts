/**
 * Segments written back in script syntax: script lines (for the recorder and for messages),
 * and live segments already mapped to the script's relative numbers (for failure reports),
 * so that what the script said and what the server did read side by side.
 */
import type { EcnMark, PacketLine, ScriptOption, TimeSpec } from './ast.js';
import { formatScriptFlags } from './flags.js';
import { formatOptions } from './options.js';

/** A live segment as the script sees it: relative seq/ack/SACK, mapped timestamps. */
export interface SegmentView {
  direction: '<' | '>';
  flags: number;
  seq: number;
  length: number;
  ack: number;
  win: number;
  urg: number;
  options: ScriptOption[];
  payload: Buffer;
  /** The IP header's ECN bits. */
  ecn: Exclude<EcnMark, 'ect01'>;
}

/** Seconds, as short as exact to the microsecond: 0, 0.1, 0.0125. */
export function formatSeconds(s: number): string {
  const rounded = Math.round(s * 1e6) / 1e6;
  return String(rounded);
}

export function formatTime(t: TimeSpec): string {
  switch (t.kind) {
    case 'absolute':
      return formatSeconds(t.at);
    case 'relative':
      return `+${formatSeconds(t.at)}`;
    case 'any':
      return '*';
    case 'range':
      return `${t.from.relative ? '+' : ''}${formatSeconds(t.from.at)}~${t.to.relative ? '+' : ''}${formatSeconds(t.to.at)}`;
  }
}

const PRINTABLE_ESCAPES: Record<number, string> = { 10: '\\n', 13: '\\r', 9: '\\t', 34: '\\"', 92: '\\\\' };

/** "text" when the bytes read as text, else 0x hex; `max` cuts long payloads (for messages only). */
export function formatPayload(bytes: Buffer, max = Infinity): string {
  const shown = bytes.length > max ? bytes.subarray(0, max) : bytes;
  const more = bytes.length > max ? '...' : '';
  let text = true;
  for (const b of shown) if (!(b >= 0x20 && b < 0x7f) && PRINTABLE_ESCAPES[b] === undefined) text = false;
  if (!text) return `0x${shown.toString('hex')}${more}`;
  let s = '"';
  for (const b of shown) s += PRINTABLE_ESCAPES[b] ?? String.fromCharCode(b);
  return `${s}"${more}`;
}

function seqText(seq: number, length: number): string {
  return `${seq}:${(seq + length) >>> 0}(${length})`;
}

/** A script line from its parts (the canonical spelling, whatever the original looked like). */
export function formatPacketLine(p: Omit<PacketLine, 'type' | 'line' | 'text'>, withTime = true): string {
  const parts: string[] = [];
  if (withTime) parts.push(formatTime(p.time));
  parts.push(p.direction);
  if (p.ecn !== undefined) parts.push(`[${p.ecn}]`);
  parts.push(formatScriptFlags(p.flags), seqText(p.seq, p.length));
  if (p.ack !== undefined) parts.push(`ack ${p.ack}`);
  if (p.win !== undefined) parts.push(`win ${p.win}`);
  if (p.urg !== undefined) parts.push(`urg ${p.urg}`);
  const opts = formatOptions(p.options);
  if (opts) parts.push(opts);
  if (p.payload !== undefined) parts.push(formatPayload(p.payload));
  return parts.join(' ');
}

/** A live segment in script syntax, every field shown (payload cut at `maxPayload` bytes). */
export function formatView(v: SegmentView, opts: { time?: string; maxPayload?: number } = {}): string {
  const parts: string[] = [];
  if (opts.time !== undefined) parts.push(opts.time);
  parts.push(v.direction);
  if (v.ecn !== 'noecn') parts.push(`[${v.ecn}]`);
  parts.push(formatScriptFlags(v.flags), seqText(v.seq, v.length));
  if (v.flags & 0x10 || v.ack !== 0) parts.push(`ack ${v.ack}`);
  parts.push(`win ${v.win}`);
  if (v.urg) parts.push(`urg ${v.urg}`);
  if (v.options.length) parts.push(formatOptions(v.options));
  if (v.payload.length) parts.push(formatPayload(v.payload, opts.maxPayload ?? Infinity));
  return parts.join(' ');
}
