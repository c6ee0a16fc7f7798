/**
 * TCP conversations out of a stream of frames (a file being read, a live capture), for the
 * --ladder and --svg views: segments grouped by their 4-tuple, each side's direction fixed by
 * whoever sent first, times counted from the conversation's first segment. Memory is bounded:
 * each conversation keeps its first MAX_SEGMENTS segments and counts the rest.
 */
import { writeFileSync } from 'node:fs';
// dissect() needs every layer and link type registered; `synack read` loads this module lazily, without them.
import './packet-support.js';
import { dissect } from '../packet/dissect.js';
import type { Packet } from '../packet/packet.js';
import { TCPLayer } from '../layers/tcp.js';
import { renderLadder, renderLadderSvg, type LadderEntry } from '../show/ladder.js';
import { openError } from '../pcap/errors.js';
import { ipOffset } from '../wire/network-start.js';

const MAX_SEGMENTS = 500;
const MAX_CONVERSATIONS = 10_000;

interface Conversation {
  left: string;
  right: string;
  startMicros: number;
  entries: LadderEntry[];
  more: number;
}

export class ConversationTable {
  private readonly byKey = new Map<string, Conversation>();
  /** Conversations beyond MAX_CONVERSATIONS, not drawn. */
  dropped = 0;

  /** Offers one frame (bytes valid only during the call); keeps it when it is TCP over IP. */
  add(data: Buffer, linkType: number, timeMicros: number): void {
    const off = ipOffset(data, 0, data.length, linkType);
    if (off < 0 || data.length < off + 20) return;
    const version = data[off]! >> 4;
    const isTcp = version === 4 ? data[off + 9] === 6 : version === 6 ? data[off + 6] === 6 : false;
    if (!isTcp) return;
    const p: Packet = dissect(Buffer.from(data.subarray(off)), 'ip');
    const tcp = p.getLayer(TCPLayer);
    const ip = p.layers[0];
    if (!tcp || !ip) return;
    const src = `${String(ip.get('src' as never))}.${tcp.get('sport')}`;
    const dst = `${String(ip.get('dst' as never))}.${tcp.get('dport')}`;
    const key = src < dst ? `${src} ${dst}` : `${dst} ${src}`;
    let c = this.byKey.get(key);
    if (!c) {
      if (this.byKey.size >= MAX_CONVERSATIONS) {
        this.dropped++;
        return;
      }
      c = { left: src, right: dst, startMicros: timeMicros, entries: [], more: 0 };
      this.byKey.set(key, c);
    }
    if (c.entries.length >= MAX_SEGMENTS) {
      c.more++;
      return;
    }
    c.entries.push({ direction: src === c.left ? 'out' : 'in', time: (timeMicros - c.startMicros) / 1000, packet: p });
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Every conversation as a terminal ladder, one after another. */
  ladders(absolute = false): string {
    const parts: string[] = [];
    let i = 0;
    for (const c of this.byKey.values()) {
      i++;
      const header = `conversation ${i}: ${c.left} <-> ${c.right}, ${c.entries.length + c.more} segments`;
      let text = `${header}\n${renderLadder(c.entries, { left: c.left, right: c.right, absolute })}`;
      if (c.more > 0) text += `\n  ... ${c.more} more segments not drawn`;
      parts.push(text);
    }
    if (this.dropped > 0) parts.push(`(${this.dropped} segments of further conversations not drawn)`);
    return parts.join('\n\n');
  }

  /** One SVG per conversation: OUT itself when there is one, OUT-1.svg, OUT-2.svg... otherwise. Returns the paths. */
  writeSvgs(out: string, absolute = false): string[] {
    const all = [...this.byKey.values()];
    const paths: string[] = [];
    all.forEach((c, i) => {
      const path = all.length === 1 ? out : out.replace(/(\.svg)?$/i, `-${i + 1}.svg`);
      try {
        writeFileSync(path, renderLadderSvg(c.entries, { left: c.left, right: c.right, absolute }) + '\n');
      } catch (err) {
        throw openError(path, err, true);
      }
      paths.push(path);
    });
    return paths;
  }
}
