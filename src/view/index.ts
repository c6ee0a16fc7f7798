/**
 * The browser view as a library: packets, a conversation's trace or a capture file's records
 * rendered to one self-contained HTML page (packet list, filter, layer tree and bytes, the
 * stream's ladder with both endpoints' states, follow, conversations, the --explain notes).
 *
 *   const c = await connect({ dst: '127.0.0.1', dport: 8080 });
 *   ...
 *   writeView('conversation.html', c.trace, { title: 'get and close' });
 */
import { writeFileSync } from 'node:fs';
import { framesOf } from '../analysis/index.js';
import { Packet } from '../packet/packet.js';
import { readPcapBatchesSync, type ReadOptions } from '../pcap/read.js';
import { renderViewHtml } from './html.js';
import { buildViewData, type ViewFrame } from './model.js';

export type { ViewFrame } from './model.js';
export type { ViewData } from './data.js';

/** What a view shows: packets (sniff() results), a conversation's trace ({ packet } entries), or frames (a file's records). */
export type ViewInput = Iterable<Packet | { packet: Packet }> | Iterable<ViewFrame>;

export interface ViewOptions {
  /** The page's title (default 'packets'). */
  title?: string;
}

function* framesFrom(input: ViewInput): Generator<ViewFrame> {
  for (const item of input as Iterable<Packet | { packet: Packet } | ViewFrame>) {
    if (item instanceof Packet || 'packet' in item) yield* framesOf([item]);
    else yield item;
  }
}

/** The view of packets, a trace or frames, as one HTML page that needs no network. */
export function renderView(input: ViewInput, opts: ViewOptions = {}): string {
  return renderViewHtml(buildViewData(framesFrom(input), opts.title ?? 'packets'));
}

/** Writes renderView() to a file. */
export function writeView(path: string, input: ViewInput, opts: ViewOptions = {}): void {
  writeFileSync(path, renderView(input, opts));
}

/** The view of a capture file (pcap or pcapng), optionally filtered (ReadOptions.filter) and cut to `count` packets. */
export function renderFileView(path: string, opts: ReadOptions & ViewOptions & { count?: number } = {}): string {
  const { title, count, ...read } = opts;
  function* records(): Generator<ViewFrame> {
    let n = 0;
    const limit = count ?? Infinity;
    for (const batch of readPcapBatchesSync(path, read)) {
      for (const rec of batch) {
        if (n++ >= limit) return;
        yield rec;
      }
    }
  }
  return renderViewHtml(buildViewData(records(), title ?? path));
}

/** Every segment of several conversations (a scenario's) in the order they were seen, for one view. */
export function mergeTraces(conversations: Iterable<{ trace: readonly { packet: Packet }[] }>): Array<{ packet: Packet }> {
  const all: Array<{ packet: Packet }> = [];
  for (const c of conversations) all.push(...c.trace);
  // A stable sort: segments stamped in the same microsecond keep their order.
  return all.map((e, i) => ({ e, i })).sort((x, y) => (x.e.packet.time ?? 0) - (y.e.packet.time ?? 0) || x.i - y.i).map((x) => x.e);
}
