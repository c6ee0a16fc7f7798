/**
 * Relative sequence numbers, as packetdrill has them. The script counts our sequence space
 * from 0 at a random ISN, and the server's from 0 at the ISN it picks (learned from its first
 * segment, normally the SYN-ACK). seq, ack and SACK blocks are rewritten both ways.
 *
 * Timestamps: ours go out as the script writes them; the server's are mapped from the first
 * value seen (the script's first server TS val stands for the live one), so a script's
 * `TS ecr` that echoes the server reaches it as the server's real clock, and the server's
 * TS val reads in the script's terms.
 */
import { RawLayer } from '../layers/raw.js';
import { TCPLayer } from '../layers/tcp.js';
import type { TCPOption } from '../layers/tcp-options.js';
import type { Packet } from '../packet/packet.js';
import type { PacketLine, ScriptOption } from './ast.js';
import type { SegmentView } from './format.js';
import { fromTCPOption, toTCPOption } from './options.js';
import { packetEcn } from './ecn.js';

const u32 = (n: number): number => n >>> 0;

export class SequenceMap {
  /** The server's ISN, once learned. */
  serverIsn: number | undefined;
  private serverTsLive: number | undefined;
  private serverTsScript: number | undefined;
  /** The server's latest TS val, for a script whose lines skipped the options check (`<...>`). */
  private serverTsLatest: number | undefined;

  constructor(readonly ourIsn: number) {}

  /** Learns the server's ISN from its first segment and the line it answers to. */
  learnServerIsn(liveSeq: number, scriptSeq: number): void {
    this.serverIsn ??= u32(liveSeq - scriptSeq);
  }

  /** Learns the server's timestamp origin: this live TS val is the script's `scriptVal`. */
  learnServerTs(liveVal: number, scriptVal: number): void {
    if (this.serverTsLive !== undefined) return;
    this.serverTsLive = liveVal;
    this.serverTsScript = scriptVal;
  }

  get knowsServerTs(): boolean {
    return this.serverTsLive !== undefined;
  }

  // ---- script -> wire (segments we send) ----

  ourSeqToWire(rel: number): number {
    return u32(this.ourIsn + rel);
  }

  serverSeqToWire(rel: number): number {
    return this.serverIsn === undefined ? u32(rel) : u32(this.serverIsn + rel);
  }

  serverTsToWire(scriptVal: number): number {
    if (scriptVal === 0) return 0;
    // Never told what the server's clock reads in script terms: the first echo we send names its latest value.
    if (this.serverTsLive === undefined && this.serverTsLatest !== undefined) this.learnServerTs(this.serverTsLatest, scriptVal);
    if (this.serverTsLive === undefined) return u32(scriptVal);
    return u32(this.serverTsLive + (scriptVal - this.serverTsScript!));
  }

  /** Options of a '<' line as the wire needs them: SACK blocks and TS ecr in the server's real numbers. */
  optionsToWire(options: readonly ScriptOption[]): TCPOption[] {
    return options.map((o) => {
      if (o.kind === 'sack') return toTCPOption({ kind: 'sack', blocks: o.blocks.map(([l, r]) => [this.serverSeqToWire(l), this.serverSeqToWire(r)]) });
      if (o.kind === 'TS') return toTCPOption({ kind: 'TS', val: o.val, ecr: this.serverTsToWire(o.ecr) });
      return toTCPOption(o);
    });
  }

  // ---- wire -> script (segments the server sends, and ours for reports) ----

  /**
   * The script's view of a live segment. For the server's segments, `expected` (the line it
   * is checked against) teaches the ISN and TS origin the first time.
   */
  view(p: Packet, direction: '<' | '>', expected?: PacketLine): SegmentView {
    const tcp = p.layer(TCPLayer);
    const raw = p.getLayer(RawLayer);
    const payload = raw && raw.name === 'Raw' ? raw.load : Buffer.alloc(0);
    const liveOptions = (tcp.get('options') ?? []).map(fromTCPOption);
    const seq = tcp.get('seq') as number;
    const ack = tcp.get('ack') as number;
    if (direction === '>') {
      if (expected) this.learnServerIsn(seq, expected.seq);
      const liveTs = liveOptions.find((o) => o.kind === 'TS');
      const scriptTs = Array.isArray(expected?.options) ? expected.options.find((o) => o.kind === 'TS') : undefined;
      if (liveTs?.kind === 'TS' && scriptTs?.kind === 'TS') this.learnServerTs(liveTs.val, scriptTs.val);
      if (liveTs?.kind === 'TS') this.serverTsLatest = liveTs.val;
    }
    const fromServer = direction === '>';
    const ourRel = (n: number): number => u32(n - this.ourIsn);
    const serverRel = (n: number): number => (this.serverIsn === undefined ? n : u32(n - this.serverIsn));
    const options = liveOptions.map((o): ScriptOption => {
      if (o.kind === 'sack') return { kind: 'sack', blocks: o.blocks.map(([l, r]) => (fromServer ? [ourRel(l), ourRel(r)] : [serverRel(l), serverRel(r)])) };
      if (o.kind === 'TS') {
        return fromServer ? { kind: 'TS', val: this.serverTsToScript(o.val), ecr: o.ecr } : { kind: 'TS', val: o.val, ecr: o.ecr === 0 ? 0 : this.serverTsToScript(o.ecr) };
      }
      return o;
    });
    return {
      direction,
      flags: tcp.flagBits,
      seq: fromServer ? serverRel(seq) : ourRel(seq),
      length: payload.length,
      ack: (tcp.flagBits & 0x10) === 0 && ack === 0 ? 0 : fromServer ? ourRel(ack) : serverRel(ack),
      win: tcp.get('window') as number,
      urg: tcp.get('urgptr') as number,
      options,
      payload,
      ecn: packetEcn(p),
    };
  }

  serverTsToScript(live: number): number {
    if (this.serverTsLive === undefined) return live;
    return u32(this.serverTsScript! + (live - this.serverTsLive));
  }
}
