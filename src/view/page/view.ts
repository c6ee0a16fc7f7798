/**
 * The page's controller: one selected packet, and every pane follows it. The list (virtualised)
 * shows `synack read`'s lines; the filter box compiles pcap-filter(7) with synack's own compiler
 * and prints the packets it keeps again with a fresh printer, as `synack read FILE FILTER`
 * does (relative sequence numbers start from the first packet shown). Selecting a packet
 * dissects it here (layers, fields and their bytes), draws its stream's ladder, and shows its
 * --explain note; a layer or field chosen in the tree stays chosen from packet to packet.
 */
import { compileFilter } from '../../pcap/filter/index.js';
import { createPrinter } from '../../show/printer.js';
import type { StreamInfo, ViewData } from '../data.js';
import { fieldAt, layerTree, type LayerNode } from '../fields.js';
import { badgeClass, h, streamColour } from './dom.js';
import { renderLadder, type TimeMode } from './ladder.js';
import { VirtualList } from './list.js';
import { renderConversations, renderFollow, renderHex, renderTree } from './panes.js';

type Tab = 'ladder' | 'follow' | 'conversations';

function decodeBase64(text: string): Uint8Array {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class View {
  private bytesCache: Uint8Array | undefined;
  /** Packet indices shown, in order (undefined: all). */
  private shown: number[] | undefined;
  /** Lines printed for the filtered packets (as `synack read FILE FILTER` prints them). */
  private shownLines: string[] | undefined;
  private selected = -1;
  private tree: LayerNode[] = [];
  private hexCells: HTMLElement[] = [];
  /** The chosen layer (by name, so it stays chosen on the next packet) and field. */
  private chosenLayer: string | undefined;
  private chosenField: string | undefined;
  private tab: Tab = 'ladder';
  private mode: TimeMode = 'even';
  private readonly streamsByIndex = new Map<number, StreamInfo>();
  private readonly list: VirtualList;
  private readonly el: Record<'list' | 'note' | 'tree' | 'hex' | 'status' | 'filter' | 'ladder' | 'follow' | 'conversations', HTMLElement>;
  private readonly tabs = new Map<Tab, HTMLButtonElement>();

  constructor(private readonly data: ViewData, root: HTMLElement) {
    for (const s of data.streams) this.streamsByIndex.set(s.index, s);
    const filter = h('input', { id: 'filter', type: 'text', spellcheck: 'false', placeholder: "filter, as synack read and tcpdump take it: tcp port 80 and host 127.0.0.1 (Enter)" });
    const status = h('span', { id: 'status' });
    const listEl = h('div', { id: 'list', tabindex: '0' });
    const note = h('div', { id: 'note' });
    const tree = h('div', { id: 'tree' });
    const hex = h('section', { id: 'hex' });
    const ladder = h('div', { class: 'tab', id: 'tab-ladder' });
    const follow = h('div', { class: 'tab follow', id: 'tab-follow', hidden: '' });
    const conversations = h('div', { class: 'tab convs', id: 'tab-conversations', hidden: '' });
    const proportional = h('input', { type: 'checkbox', id: 'proportional' });
    const nav = h('nav', { class: 'tabs' });
    for (const tab of ['ladder', 'follow', 'conversations'] as const) {
      const b = h('button', { type: 'button', 'data-tab': tab }, tab[0]!.toUpperCase() + tab.slice(1));
      b.addEventListener('click', () => this.showTab(tab));
      this.tabs.set(tab, b);
      nav.append(b);
    }
    nav.append(h('span', { class: 'spacer' }), h('label', {}, proportional, ' time in proportion'));
    root.replaceChildren(
      h('header', {}, h('h1', {}, 'synack view ', h('small', {}, data.title)), filter, status),
      listEl,
      h('main', {}, h('section', { id: 'detail' }, note, tree), hex, h('section', { id: 'side' }, nav, ladder, follow, conversations)),
    );
    this.el = { list: listEl, note, tree, hex, status, filter, ladder, follow, conversations };
    this.list = new VirtualList(listEl, (r) => this.row(r));
    this.list.setCount(data.count);
    this.setStatus();
    this.showTab('ladder');

    filter.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') this.applyFilter(filter.value);
    });
    proportional.addEventListener('change', () => {
      this.mode = proportional.checked ? 'proportional' : 'even';
      this.drawSide();
    });
    listEl.addEventListener('click', (e) => {
      const row = (e.target as Element).closest<HTMLElement>('.row');
      if (row) this.select(Number(row.dataset.i));
    });
    listEl.addEventListener('keydown', (e) => this.onKey(e));
    tree.addEventListener('click', (e) => {
      const item = (e.target as Element).closest<HTMLElement>('.layer-head, .field');
      if (!item) return;
      const layer = this.tree[Number(item.dataset.l)]!;
      this.chosenLayer = layer.layerName;
      this.chosenField = item.dataset.f === undefined ? undefined : layer.fields[Number(item.dataset.f)]!.name;
      this.highlight();
    });
    hex.addEventListener('click', (e) => {
      const cell = (e.target as Element).closest<HTMLElement>('[data-i]');
      if (!cell) return;
      const at = fieldAt(this.tree, Number(cell.dataset.i));
      if (!at) return;
      const layer = this.tree[at.layer]!;
      this.chosenLayer = layer.layerName;
      this.chosenField = at.field >= 0 ? layer.fields[at.field]!.name : undefined;
      this.highlight();
      this.el.tree.querySelector('.selected')?.scrollIntoView({ block: 'nearest' });
    });
    ladder.addEventListener('click', (e) => {
      const arrow = (e.target as Element).closest<SVGElement>('.arrow');
      if (arrow) this.select(Number(arrow.dataset.i), true);
    });
    follow.addEventListener('click', (e) => {
      const chunk = (e.target as Element).closest<HTMLElement>('pre[data-frame]');
      if (chunk) this.select(Number(chunk.dataset.frame) - 1, true);
    });
    conversations.addEventListener('click', (e) => {
      const row = (e.target as Element).closest<HTMLElement>('tr[data-stream]');
      const first = row ? this.streamsByIndex.get(Number(row.dataset.stream))?.packets[0] : undefined;
      if (first !== undefined) this.select(first, true);
    });
    if (data.count > 0) this.select(0);
    else this.el.tree.append(h('div', { class: 'empty' }, 'no packets'));
  }

  private get bytes(): Uint8Array {
    return (this.bytesCache ??= decodeBase64(this.data.bytes));
  }

  /** Packet i's bytes: from the whole capture once it is decoded (a filter needs it), else just its own base64. */
  private frame(i: number): Buffer {
    const off = this.data.offsets[i]!;
    const end = this.data.offsets[i + 1]!;
    if (this.bytesCache) return Buffer.from(this.bytesCache.buffer, this.bytesCache.byteOffset + off, end - off);
    const first = Math.floor(off / 3);
    const chunk = decodeBase64(this.data.bytes.slice(first * 4, Math.ceil(end / 3) * 4));
    return Buffer.from(chunk.buffer, off - first * 3, end - off);
  }

  private row(r: number): HTMLElement {
    const i = this.shown ? this.shown[r]! : r;
    const t = this.data.tcp;
    const stream = t.stream[i]!;
    const labels = this.data.strings[t.labels[i]!]!;
    const line = h('span', { class: 'line' }, this.shownLines ? this.shownLines[r]! : this.data.lines[i]!);
    const badges = h('span', { class: 'badges' });
    if (labels) for (const l of labels.split('\n')) badges.append(h('span', { class: badgeClass(l) }, l));
    const el = h(
      'div',
      { class: i === this.selected ? 'row selected' : 'row', 'data-i': String(i) },
      h('span', { class: 'stripe', style: `background:${streamColour(stream)}` }),
      h('span', { class: 'no' }, String(i + 1)),
      badges,
      line,
      h('span', { class: 'note' }, stream >= 0 ? this.data.strings[t.note[i]!]! : ''),
    );
    if (stream >= 0) el.title = `stream ${stream}`;
    return el;
  }

  private setStatus(error?: string): void {
    const s = this.el.status;
    s.className = error ? 'error' : '';
    s.textContent = error ?? (this.shown ? `${this.shown.length} of ${this.data.count} packets` : `${this.data.count} packets`);
  }

  /** Keeps the packets the filter accepts; '' shows every packet again. */
  applyFilter(text: string): void {
    const input = this.el.filter;
    if (text.trim() === '') {
      this.shown = this.shownLines = undefined;
      input.className = '';
    } else {
      let filter;
      try {
        filter = compileFilter(text);
      } catch (err) {
        input.className = 'bad';
        this.setStatus((err as Error).message);
        return;
      }
      const all = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
      const { offsets, linkTypes, wireLengths } = this.data;
      const kept: number[] = [];
      for (let i = 0; i < this.data.count; i++) {
        if (filter.forLinkType(linkTypes[i]!)(all, offsets[i]!, offsets[i + 1]! - offsets[i]!, wireLengths[i]!)) kept.push(i);
      }
      const printer = createPrinter();
      this.shownLines = kept.map((i) => printer.formatRecord({ data: this.frame(i), origLen: wireLengths[i]!, seconds: this.data.seconds[i]!, nanos: this.data.nanos[i]!, linkType: linkTypes[i]! }));
      this.shown = kept;
      input.className = 'good';
    }
    this.setStatus();
    this.list.setCount(this.shown ? this.shown.length : this.data.count);
    const at = this.rowOf(this.selected);
    if (at >= 0) this.list.reveal(at);
    else if ((this.shown?.length ?? this.data.count) > 0) this.select(this.shown ? this.shown[0]! : 0);
  }

  private rowOf(i: number): number {
    return this.shown ? this.shown.indexOf(i) : i;
  }

  private onKey(e: KeyboardEvent): void {
    const count = this.shown ? this.shown.length : this.data.count;
    const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : e.key === 'PageDown' ? this.list.visibleRows : e.key === 'PageUp' ? -this.list.visibleRows : 0;
    if (step === 0 || count === 0) return;
    e.preventDefault();
    const r = Math.max(0, Math.min(count - 1, this.rowOf(this.selected) + step));
    this.select(this.shown ? this.shown[r]! : r, true);
  }

  /** Selects packet i (from 0): every pane follows. */
  select(i: number, reveal = false): void {
    if (i < 0 || i >= this.data.count) return;
    this.selected = i;
    const row = this.rowOf(i);
    // Only the two rows whose mark changes are touched (a scroll repaints the rows it brings).
    this.el.list.querySelector('.row.selected')?.classList.remove('selected');
    this.el.list.querySelector(`.row[data-i="${i}"]`)?.classList.add('selected');
    if (reveal && row >= 0) this.list.reveal(row);
    const data = this.frame(i);
    this.tree = layerTree(data, this.data.linkTypes[i]!);
    this.el.tree.replaceChildren(renderTree(this.tree));
    this.el.hex.replaceChildren(renderHex(data));
    this.hexCells = [...this.el.hex.querySelectorAll<HTMLElement>('[data-i]')];
    this.drawNote(i);
    this.highlight();
    this.drawSide();
  }

  private drawNote(i: number): void {
    const t = this.data.tcp;
    const note = this.el.note;
    note.replaceChildren();
    if (t.stream[i]! < 0) return;
    const labels = this.data.strings[t.labels[i]!]!;
    if (labels) for (const l of labels.split('\n')) note.append(h('span', { class: badgeClass(l) }, l), ' ');
    note.append(`${this.data.strings[t.note[i]!]}  (client ${this.data.strings[t.client[i]!]}, server ${this.data.strings[t.server[i]!]})`);
  }

  /** Marks the chosen layer or field in the tree and its bytes in the hex pane. */
  private highlight(): void {
    const l = this.tree.findIndex((n) => n.layerName === this.chosenLayer);
    let start = 0;
    let end = 0;
    let selector = '';
    if (l >= 0) {
      const layer = this.tree[l]!;
      const f = this.chosenField === undefined ? -1 : layer.fields.findIndex((x) => x.name === this.chosenField);
      if (f >= 0) {
        start = layer.fields[f]!.start;
        end = layer.fields[f]!.end;
        selector = `.field[data-l="${l}"][data-f="${f}"]`;
      } else {
        start = layer.start;
        end = layer.headerEnd;
        selector = `.layer-head[data-l="${l}"]`;
      }
    }
    for (const el of this.el.tree.querySelectorAll('.selected')) el.classList.remove('selected');
    if (selector) this.el.tree.querySelector(selector)?.classList.add('selected');
    for (const el of this.el.hex.querySelectorAll('.hl')) el.classList.remove('hl');
    for (const cell of this.hexCells) {
      const b = Number(cell.dataset.i);
      if (b >= start && b < end) cell.classList.add('hl');
    }
  }

  private showTab(tab: Tab): void {
    this.tab = tab;
    for (const [name, b] of this.tabs) b.classList.toggle('active', name === tab);
    this.el.ladder.hidden = tab !== 'ladder';
    this.el.follow.hidden = tab !== 'follow';
    this.el.conversations.hidden = tab !== 'conversations';
    this.drawSide();
  }

  /** The pane on the right: only the tab in sight is drawn. */
  private drawSide(): void {
    const i = this.selected;
    const stream = i >= 0 ? this.data.tcp.stream[i]! : -1;
    const info = this.streamsByIndex.get(stream);
    if (this.tab === 'ladder') {
      const pane = this.el.ladder;
      if (!info) pane.replaceChildren(h('div', { class: 'empty' }, i < 0 ? 'no packet selected' : 'not a TCP segment: no ladder'));
      else pane.replaceChildren(renderLadder(this.data, info, i, this.mode, pane.clientWidth - 16));
      pane.querySelector('.arrow.selected')?.scrollIntoView({ block: 'nearest' });
    } else if (this.tab === 'follow') {
      const pane = this.el.follow;
      if (!info) pane.replaceChildren(h('div', { class: 'empty' }, 'not a TCP segment: nothing to follow'));
      else pane.replaceChildren(renderFollow(stream, this.data.follow[stream]));
    } else {
      this.el.conversations.replaceChildren(renderConversations(this.data, stream));
    }
  }
}
