/**
 * Ladder diagrams (sequence diagrams) of a TCP conversation: one arrow per segment between
 * two columns, labelled as tcpdump would (flags, relative seq and ack, length), with each
 * side's state after the segment printed on that side. Pauses of GAP_MS or more are marked
 * with their length (rows are otherwise evenly spaced). Rendered for the terminal and as SVG;
 * the SVG styles SYN, FIN, RST, data and bare ACKs apart and carries each segment's full
 * tcpdump line as its tooltip.
 */
import type { Packet } from '../packet/packet.js';
import { TCPLayer } from '../layers/tcp.js';
import { RawLayer } from '../layers/raw.js';
import { TCP_FLAG_LETTERS } from './tcpdump/tcp.js';
import { createPrinter } from './printer.js';

export interface LadderEntry {
  /** 'out': from the left endpoint (us) to the right one; 'in': the other way. */
  direction: 'out' | 'in';
  /** Milliseconds since the start. */
  time: number;
  packet: Packet;
  /** State of the left endpoint after this segment, when known. */
  state?: string;
  /** State of the right endpoint after this segment, when known. */
  peerState?: string;
  /** A short annotation for this row (an analysis flag such as 'retransmission'), shown after it. */
  mark?: string;
  /** The segment's tcpdump line (the SVG tooltip); made from the packet when not given. */
  line?: string;
}

export interface LadderOptions {
  left?: string;
  right?: string;
  /** Absolute sequence numbers instead of relative ones (tcpdump -S). */
  absolute?: boolean;
}

/** tcpdump's flag letters for the low 8 flag bits: 'S.', 'FS', 'P.', 'none'. */
export function tcpdumpFlags(bits: number): string {
  return TCP_FLAG_LETTERS[bits & 0xff]!;
}

/** One label per segment, sequence numbers relative to each side's first (as tcpdump prints them). */
export function ladderLabels(entries: readonly LadderEntry[], absolute = false): string[] {
  const base: Record<'out' | 'in', number | undefined> = { out: undefined, in: undefined };
  return entries.map((e) => {
    const tcp = e.packet.getLayer(TCPLayer);
    if (!tcp) return e.packet.layers.map((l) => l.name).join('/');
    const other = e.direction === 'out' ? 'in' : 'out';
    const seq = tcp.get('seq');
    base[e.direction] ??= seq;
    const raw = e.packet.getLayer(RawLayer);
    const length = raw && raw.name === 'Raw' ? raw.load.length : 0;
    const rel = (n: number, b: number | undefined): number => (absolute || b === undefined ? n : (n - b) >>> 0);
    const flags = tcp.flagBits;
    // As tcpdump: a bare ACK shows no seq; data shows the range it covers.
    const bareAck = length === 0 && (flags & 0x07) === 0;
    let label = `[${tcpdumpFlags(flags)}]`;
    if (length > 0) label += ` seq ${rel(seq, base[e.direction])}:${rel(seq + length, base[e.direction])}`;
    else if (!bareAck) label += ` seq ${rel(seq, base[e.direction])}`;
    if (flags & 0x10) label += ` ack ${rel(tcp.get('ack'), base[other])}`;
    if (length > 0) label += ` len ${length}`;
    return label;
  });
}

/** A pause between two segments at least this long (ms) is marked on the ladder. */
const GAP_MS = 100;

/** Which kind of segment an arrow is, for styling: the most telling flag wins. */
type SegmentKind = 'rst' | 'syn' | 'fin' | 'data' | 'ack';

function segmentKind(e: LadderEntry): SegmentKind {
  const tcp = e.packet.getLayer(TCPLayer);
  if (!tcp) return 'data';
  const flags = tcp.flagBits;
  if (flags & 0x04) return 'rst';
  if (flags & 0x02) return 'syn';
  if (flags & 0x01) return 'fin';
  const raw = e.packet.getLayer(RawLayer);
  return raw && raw.name === 'Raw' && raw.load.length > 0 ? 'data' : 'ack';
}

/** '2.500 s', '150.0 ms': how long a pause was. */
function gapText(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}

function timeText(ms: number): string {
  return `${ms.toFixed(3)} ms`;
}

/** The pause before each entry, when it is long enough to mark. */
function gaps(entries: readonly LadderEntry[]): Array<number | undefined> {
  return entries.map((e, i) => {
    if (i === 0) return undefined;
    const gap = e.time - entries[i - 1]!.time;
    return gap >= GAP_MS ? gap : undefined;
  });
}

/** The ladder as terminal text: time, our state, the arrow, the peer's state, the mark. */
export function renderLadder(entries: readonly LadderEntry[], opts: LadderOptions = {}): string {
  const labels = ladderLabels(entries, opts.absolute);
  const width = Math.max(30, ...labels.map((l) => l.length + 8));
  const left = opts.left ?? 'us';
  const right = opts.right ?? 'peer';
  const times = entries.map((e) => timeText(e.time));
  const timeWidth = Math.max(0, ...times.map((t) => t.length));
  const stateWidth = Math.max(left.length, ...entries.map((e) => (e.state ?? '').length));
  const pauses = gaps(entries);
  const lines: string[] = [];
  // Each name stands over its own side: ours ends at the left bar, the peer's starts at the right one.
  lines.push(`${' '.repeat(timeWidth)}  ${left.padStart(stateWidth)} ${' '.repeat(width + 2)} ${right}`);
  entries.forEach((e, i) => {
    const pause = pauses[i];
    if (pause !== undefined) {
      const text = ` ${gapText(pause)} later `;
      const dots = Math.max(0, width - text.length);
      const before = Math.floor(dots / 2);
      lines.push(`${' '.repeat(timeWidth)}  ${' '.repeat(stateWidth)} :${' '.repeat(before)}${text}${' '.repeat(dots - before)}:`);
    }
    const label = ` ${labels[i]} `;
    const dashes = width - label.length;
    const before = Math.floor(dashes / 2);
    const after = dashes - before;
    const body = e.direction === 'out'
      ? `|${'-'.repeat(before)}${label}${'-'.repeat(after - 1)}>|`
      : `|<${'-'.repeat(before - 1)}${label}${'-'.repeat(after)}|`;
    const tail = [e.peerState, e.mark === undefined ? undefined : `[${e.mark}]`].filter((t) => t !== undefined).join('  ');
    lines.push(`${times[i]!.padStart(timeWidth)}  ${(e.state ?? '').padStart(stateWidth)} ${body}${tail ? `  ${tail}` : ''}`);
  });
  return lines.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Colours per kind of segment: arrow and label. */
const KIND_COLOURS: Record<SegmentKind, string> = { syn: '#1a7f37', fin: '#0550ae', rst: '#cf222e', data: '#24292f', ack: '#6e7781' };

/** The tcpdump line of each entry (relative sequence numbers, as the ladder), for tooltips. */
function tooltipLines(entries: readonly LadderEntry[], absolute: boolean): string[] {
  const printer = createPrinter({ noTimestamp: true, absolute });
  return entries.map((e) => e.line ?? printer.formatPacket(e.packet));
}

/** The ladder as a standalone SVG document. */
export function renderLadderSvg(entries: readonly LadderEntry[], opts: LadderOptions = {}): string {
  const labels = ladderLabels(entries, opts.absolute);
  const tips = tooltipLines(entries, opts.absolute ?? false);
  const pauses = gaps(entries);
  const width = 1000;
  const leftX = 300;
  const rightX = 760;
  const top = 70;
  const step = 44;
  const gapStep = 40;
  const ys: number[] = [];
  let y = top;
  entries.forEach((_, i) => {
    if (pauses[i] !== undefined) y += gapStep;
    ys.push(y);
    y += step;
  });
  const height = y + 30;
  const markers = (Object.keys(KIND_COLOURS) as SegmentKind[])
    .map((k) => `<marker id="arrow-${k}" markerWidth="10" markerHeight="8" refX="10" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="${KIND_COLOURS[k]}"/></marker>`)
    .join('');
  const style = (Object.keys(KIND_COLOURS) as SegmentKind[])
    .map((k) => `.${k} line { stroke: ${KIND_COLOURS[k]}; } .${k} .label { fill: ${KIND_COLOURS[k]}; }`)
    .join('\n');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="13">`,
    `<style>\n${style}\n.syn line, .fin line, .rst line { stroke-width: 2; }\n.data line { stroke-width: 2.5; }\n.ack line { stroke-dasharray: 6 3; }\n.data .label { font-weight: bold; }\n.state { fill: #6639ba; }\n.time { fill: #57606a; }\n.gap { fill: #9a6700; font-style: italic; }\n.mark { fill: #bc4c00; }\n</style>`,
    `<defs>${markers}</defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${leftX}" y="26" text-anchor="middle" font-weight="bold">${escapeXml(opts.left ?? 'us')}</text>`,
    `<text x="${rightX}" y="26" text-anchor="middle" font-weight="bold">${escapeXml(opts.right ?? 'peer')}</text>`,
    `<line x1="${leftX}" y1="36" x2="${leftX}" y2="${height - 10}" stroke="#8c959f"/>`,
    `<line x1="${rightX}" y1="36" x2="${rightX}" y2="${height - 10}" stroke="#8c959f"/>`,
  ];
  entries.forEach((e, i) => {
    const pause = pauses[i];
    if (pause !== undefined) {
      const gy = ys[i]! - gapStep / 2 - 8;
      parts.push(`<g class="pause"><rect x="${leftX - 3}" y="${gy - 14}" width="${rightX - leftX + 6}" height="22" fill="#fff8c5"/><text class="gap" x="${(leftX + rightX) / 2}" y="${gy + 1}" text-anchor="middle">${escapeXml(`… ${gapText(pause)} later …`)}</text></g>`);
    }
    const kind = segmentKind(e);
    const y1 = ys[i]!;
    const y2 = y1 + step * 0.6;
    const [x1, x2] = e.direction === 'out' ? [leftX, rightX] : [rightX, leftX];
    const row: string[] = [`<g class="segment ${kind}"><title>${escapeXml(tips[i]!)}</title>`];
    row.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" marker-end="url(#arrow-${kind})"/>`);
    row.push(`<text class="label" x="${(leftX + rightX) / 2}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle">${escapeXml(labels[i]!)}</text>`);
    if (e.mark !== undefined) row.push(`<text class="mark" x="${(leftX + rightX) / 2}" y="${(y1 + y2) / 2 + 14}" text-anchor="middle">${escapeXml(e.mark)}</text>`);
    row.push('</g>');
    parts.push(row.join(''));
    parts.push(`<text class="time" x="10" y="${y1 + 4}">${timeText(e.time)}</text>`);
    // Each side's state after the segment, beside its own line.
    if (e.state) parts.push(`<text class="state" x="${leftX - 10}" y="${y1 + 4}" text-anchor="end">${escapeXml(e.state)}</text>`);
    if (e.peerState) parts.push(`<text class="state" x="${rightX + 10}" y="${y1 + 4}">${escapeXml(e.peerState)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
