/**
 * The ladder of one TCP stream as SVG: the client's line on the left, the server's on the right,
 * one arrow per segment labelled as tcpdump would (flags, relative seq and ack, length), and a
 * state column outside each line: that endpoint's state after the segment, as the analyzer
 * tracks it (bold where it changed). Time runs down, evenly (one row per segment) or in
 * proportion: every row keeps its height and the space between rows grows with the time between them. Segments with analysis flags are dashed and marked.
 * A long stream shows a window of segments around the selected one.
 */
import { TCP_FLAG_LETTERS } from '../../show/tcpdump/tcp.js';
import type { StreamInfo, ViewData } from '../data.js';
import { svg } from './dom.js';

export type TimeMode = 'even' | 'proportional';

const WINDOW = 400;
const ROW = 30;
const TOP = 46;

/** tcpdump's ladder words for a segment: `[S.] seq 0 ack 1`, `[P.] seq 1:4 ack 1 len 3`. */
export function arrowLabel(data: ViewData, i: number): string {
  const t = data.tcp;
  const flags = t.tcpFlags[i]!;
  const length = t.length[i]!;
  const seq = t.seq[i]!;
  let label = `[${TCP_FLAG_LETTERS[flags & 0xff]}]`;
  if (length > 0) label += ` seq ${seq}:${(seq + length) >>> 0}`;
  else if ((flags & 0x07) !== 0) label += ` seq ${seq}`;
  if (flags & 0x10) label += ` ack ${t.ack[i]}`;
  if (length > 0) label += ` len ${length}`;
  return label;
}

export function renderLadder(data: ViewData, stream: StreamInfo, selected: number, mode: TimeMode, width: number): SVGElement {
  const t = data.tcp;
  const at = Math.max(0, stream.packets.indexOf(selected));
  const from = Math.max(0, Math.min(at - WINDOW / 2, stream.packets.length - WINDOW));
  const rows = stream.packets.slice(from, from + WINDOW);
  const w = Math.max(width, 520);
  const stateW = 104;
  const xc = 70 + stateW;
  const xs = w - stateW - 8;
  const times = rows.map((i) => t.time[i]!);
  const span = times.length > 1 ? times[times.length - 1]! - times[0]! : 0;
  // In proportion: each row keeps its height (so labels never collide) and the space added
  // between two rows is proportional to the time between them: pauses show as gaps.
  const extra = mode === 'proportional' && span > 0 ? Math.max(rows.length * ROW, 300) / span : 0;
  const ys: number[] = [];
  for (let k = 0; k < rows.length; k++) ys.push(k === 0 ? TOP + 14 : ys[k - 1]! + ROW + (times[k]! - times[k - 1]!) * extra);
  const bodyH = Math.max((ys.at(-1) ?? TOP) - TOP + ROW, 120);
  const y = (k: number): number => ys[k]!;
  const height = TOP + bodyH + 20;
  const root = svg('svg', { class: 'ladder', width: w, height, viewBox: `0 0 ${w} ${height}` });
  root.append(
    svg('text', { class: 'endpoint', x: xc, y: 16, 'text-anchor': 'middle' }, `client ${stream.client}`),
    svg('text', { class: 'endpoint', x: xs, y: 16, 'text-anchor': 'middle' }, `server ${stream.server}`),
    svg('text', { class: 'time', x: 4, y: 34 }, 'ms'),
    svg('text', { class: 'time', x: xc - 8, y: 34, 'text-anchor': 'end' }, 'client state'),
    svg('text', { class: 'time', x: xs + 8, y: 34 }, 'server state'),
    svg('line', { class: 'axis', x1: xc, y1: TOP - 6, x2: xc, y2: height - 8 }),
    svg('line', { class: 'axis', x1: xs, y1: TOP - 6, x2: xs, y2: height - 8 }),
  );
  if (from > 0) root.append(svg('text', { class: 'time', x: (xc + xs) / 2, y: TOP - 10, 'text-anchor': 'middle' }, `${from} earlier segments not drawn`));
  let lastClient = '';
  let lastServer = '';
  rows.forEach((i, k) => {
    const fromClient = t.fromClient[i] === 1;
    const y0 = y(k);
    const y1 = y0 + (mode === 'even' ? 10 : 0);
    const [x0, x1] = fromClient ? [xc, xs] : [xs, xc];
    const labels = data.strings[t.labels[i]!]!;
    const classes = ['arrow', fromClient ? 'c2s' : 's2c'];
    if (labels) classes.push('flagged');
    if (i === selected) classes.push('selected');
    const dir = fromClient ? -1 : 1;
    const g = svg('g', { class: classes.join(' '), 'data-i': i });
    g.append(
      svg('rect', { class: 'bg', x: xc + 2, y: y0 - 14, width: xs - xc - 4, height: ROW - 2, rx: 3 }),
      svg('line', { x1: x0, y1: y0, x2: x1 + dir * 7, y2: y1 }),
      svg('polygon', { points: `${x1},${y1} ${x1 + dir * 9},${y1 - 4} ${x1 + dir * 9},${y1 + 4}` }),
      svg('line', { class: 'hit', x1: x0, y1: y0, x2: x1, y2: y1 }),
      svg('text', { x: (xc + xs) / 2, y: (y0 + y1) / 2 - 4, 'text-anchor': 'middle' }, arrowLabel(data, i), ...(labels ? [svg('tspan', { class: 'mark' }, ` [${labels.split('\n').join('] [')}]`)] : [])),
    );
    const client = data.strings[t.client[i]!]!;
    const server = data.strings[t.server[i]!]!;
    root.append(
      svg('text', { class: 'time', x: 4, y: y0 + 4 }, t.time[i]!.toFixed(3)),
      svg('text', { class: `state client ${client === lastClient ? 'same' : 'changed'}`, 'data-i': i, x: xc - 8, y: y0 + 4, 'text-anchor': 'end' }, client),
      svg('text', { class: `state server ${server === lastServer ? 'same' : 'changed'}`, 'data-i': i, x: xs + 8, y: y1 + 4 }, server),
      g,
    );
    lastClient = client;
    lastServer = server;
  });
  return root;
}
