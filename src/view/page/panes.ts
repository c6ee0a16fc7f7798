/** The panes that show one packet (layer tree, bytes) or one stream (follow), and the conversations table. */
import type { ConversationStats } from '../../analysis/conv.js';
import type { LayerNode } from '../fields.js';
import type { FollowData, ViewData } from '../data.js';
import { h } from './dom.js';

/** Shown in the hex pane at most: a 64 KiB frame would be 130,000 elements. */
export const HEX_LIMIT = 8192;

export function renderTree(tree: readonly LayerNode[]): DocumentFragment {
  const out = document.createDocumentFragment();
  tree.forEach((layer, l) => {
    const bytes = layer.headerEnd - layer.start;
    out.append(h('div', { class: 'layer-head', 'data-l': String(l), title: `bytes ${layer.start}-${layer.headerEnd - 1}` }, `###[ ${layer.name} ]###  `, h('span', { class: 'v' }, `${bytes} byte${bytes === 1 ? '' : 's'}`)));
    layer.fields.forEach((f, k) => {
      out.append(h('div', { class: 'field', 'data-l': String(l), 'data-f': String(k) }, `${f.name.padEnd(10)}= `, h('span', { class: 'v' }, f.value)));
    });
    for (const p of layer.problems) out.append(h('div', { class: 'problem' }, p));
  });
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** tcpdump -xx's bytes, with the text beside them; every byte a span with its offset. */
export function renderHex(bytes: Uint8Array): DocumentFragment {
  const out = document.createDocumentFragment();
  const n = Math.min(bytes.length, HEX_LIMIT);
  for (let row = 0; row < n; row += 16) {
    const line = h('div', { class: 'hexrow' }, h('span', { class: 'off' }, row.toString(16).padStart(4, '0')));
    const text: HTMLElement[] = [];
    for (let i = row; i < row + 16; i++) {
      if (i === row + 8) line.append(h('span', { class: 'gap' }));
      if (i >= n) {
        line.append(h('span', { class: 'b' }, '  '));
        continue;
      }
      const b = bytes[i]!;
      line.append(h('span', { class: 'b', 'data-i': String(i) }, HEX[b]!));
      text.push(h('span', { class: 'c', 'data-i': String(i) }, b >= 32 && b < 127 ? String.fromCharCode(b) : '.'));
    }
    line.append(h('span', { class: 'gap' }), ...text);
    out.append(line);
  }
  if (bytes.length > n) out.append(h('div', { class: 'empty' }, `... ${bytes.length - n} more bytes`));
  return out;
}

export function renderFollow(stream: number, follow: FollowData | undefined): DocumentFragment {
  const out = document.createDocumentFragment();
  if (!follow) {
    out.append(h('div', { class: 'empty' }, `the view keeps 16 MiB of payload and this stream's did not fit: synack follow FILE ${stream} prints it`));
    return out;
  }
  out.append(h('h3', {}, `Follow TCP stream ${stream}: `, h('span', { style: 'color: var(--client)' }, follow.client || 'client'), ' and ', h('span', { style: 'color: var(--server)' }, follow.server || 'server')));
  if (follow.chunks.length === 0) out.append(h('div', { class: 'empty' }, 'no payload in this stream'));
  for (const c of follow.chunks) {
    out.append(h('pre', { class: c.missing ? 'missing' : c.fromServer ? 's2c' : 'c2s', 'data-frame': String(c.frame), title: `frame ${c.frame}` }, c.text));
  }
  return out;
}

const KIND_TITLES: Record<string, string> = { tcp: 'TCP conversations', udp: 'UDP conversations', ipv4: 'IPv4 conversations', ipv6: 'IPv6 conversations' };

export function renderConversations(data: ViewData, currentStream: number): DocumentFragment {
  const out = document.createDocumentFragment();
  let any = false;
  for (const kind of ['tcp', 'udp', 'ipv4', 'ipv6'] as const) {
    const list: ConversationStats[] = data.conversations[kind];
    if (list.length === 0) continue;
    any = true;
    const head = h('tr', {}, ...['A', 'B', 'frames A→B', 'bytes A→B', 'frames B→A', 'bytes B→A', 'frames', 'bytes', 'start s', 'duration s', ...(kind === 'tcp' ? ['stream'] : [])].map((c) => h('th', {}, c)));
    const table = h('table', { class: 'conv', 'data-kind': kind }, head);
    for (const c of list) {
      const cells = [
        h('td', { class: 'addr' }, c.a),
        h('td', { class: 'addr' }, c.b),
        ...[c.aToB.frames, c.aToB.bytes, c.bToA.frames, c.bToA.bytes, c.aToB.frames + c.bToA.frames, c.aToB.bytes + c.bToA.bytes].map((n) => h('td', {}, String(n))),
        h('td', {}, c.start.toFixed(6)),
        h('td', {}, (c.end - c.start).toFixed(6)),
      ];
      const attrs: Record<string, string> = {};
      if (kind === 'tcp' && c.stream !== undefined) {
        cells.push(h('td', {}, String(c.stream)));
        attrs.class = c.stream === currentStream ? 'tcp current' : 'tcp';
        attrs['data-stream'] = String(c.stream);
      }
      table.append(h('tr', attrs, ...cells));
    }
    out.append(h('h3', {}, KIND_TITLES[kind]!), table);
  }
  if (!any) out.append(h('div', { class: 'empty' }, 'no IP conversations'));
  return out;
}
