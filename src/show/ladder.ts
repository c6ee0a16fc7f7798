/**
 * Ladder diagrams (sequence diagrams) of a TCP conversation: one arrow per segment between
 * two columns, labelled as tcpdump would (flags, relative seq and ack, length), with the
 * state of our side after each segment. Rendered for the terminal and as SVG.
 */
import type { Packet } from '../packet/packet.js';
import { TCPLayer } from '../layers/tcp.js';
import { RawLayer } from '../layers/raw.js';
import { TCP_FLAG_LETTERS } from './tcpdump/tcp.js';

export interface LadderEntry {
  /** 'out': from the left endpoint (us) to the right one; 'in': the other way. */
  direction: 'out' | 'in';
  /** Milliseconds since the start. */
  time: number;
  packet: Packet;
  /** State of the left endpoint after this segment, when known. */
  state?: string;
  /** What the TCP analysis flagged, in Wireshark's words ('TCP Retransmission'), shown beside the arrow. */
  mark?: string;
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

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The ladder as terminal text. */
export function renderLadder(entries: readonly LadderEntry[], opts: LadderOptions = {}): string {
  const labels = ladderLabels(entries, opts.absolute);
  const width = Math.max(30, ...labels.map((l) => l.length + 8));
  const left = opts.left ?? 'us';
  const right = opts.right ?? 'peer';
  const timeWidth = 11;
  const lines: string[] = [];
  lines.push(`${' '.repeat(timeWidth)}${pad(left, width + 2)}${right}`);
  entries.forEach((e, i) => {
    const label = ` ${labels[i]} `;
    const dashes = width - label.length;
    const before = Math.floor(dashes / 2);
    const after = dashes - before;
    const body = e.direction === 'out'
      ? `|${'-'.repeat(before)}${label}${'-'.repeat(after - 1)}>|`
      : `|<${'-'.repeat(before - 1)}${label}${'-'.repeat(after)}|`;
    const time = `${e.time.toFixed(3)} ms`.padStart(timeWidth - 1) + ' ';
    lines.push(`${time}${body}${e.state ? `  ${e.state}` : ''}${e.mark ? `  [${e.mark}]` : ''}`);
  });
  return lines.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The ladder as a standalone SVG document. */
export function renderLadderSvg(entries: readonly LadderEntry[], opts: LadderOptions = {}): string {
  const labels = ladderLabels(entries, opts.absolute);
  const leftX = 160;
  const rightX = 640;
  const top = 60;
  const step = 44;
  const height = top + step * entries.length + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="${height}" font-family="monospace" font-size="13">`,
    '<defs><marker id="arrow" markerWidth="10" markerHeight="8" refX="10" refY="4" orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="#333"/></marker></defs>',
    `<text x="${leftX}" y="24" text-anchor="middle" font-weight="bold">${escapeXml(opts.left ?? 'us')}</text>`,
    `<text x="${rightX}" y="24" text-anchor="middle" font-weight="bold">${escapeXml(opts.right ?? 'peer')}</text>`,
    `<line x1="${leftX}" y1="34" x2="${leftX}" y2="${height - 10}" stroke="#999"/>`,
    `<line x1="${rightX}" y1="34" x2="${rightX}" y2="${height - 10}" stroke="#999"/>`,
  ];
  entries.forEach((e, i) => {
    const y1 = top + step * i;
    const y2 = y1 + step * 0.6;
    const [x1, x2] = e.direction === 'out' ? [leftX, rightX] : [rightX, leftX];
    parts.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#333" marker-end="url(#arrow)"/>`);
    parts.push(`<text x="${(leftX + rightX) / 2}" y="${(y1 + y2) / 2 - 6}" text-anchor="middle">${escapeXml(labels[i]!)}</text>`);
    parts.push(`<text x="${leftX - 10}" y="${y1 + 4}" text-anchor="end" fill="#666">${e.time.toFixed(3)} ms</text>`);
    if (e.state) parts.push(`<text x="${rightX + 10}" y="${y1 + 4}" fill="#06c">${escapeXml(e.state)}</text>`);
    if (e.mark) parts.push(`<text x="${(leftX + rightX) / 2}" y="${(y1 + y2) / 2 + 14}" text-anchor="middle" fill="#c00">[${escapeXml(e.mark)}]</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
