/**
 * One TCP connection of a script: its conversation on the wire, its relative numbers (its own
 * ISNs, both ways), and what the peer sent on it so far, which tells a retransmission from a
 * new segment and keeps the peer's timestamps from going back. A script of several named
 * connections holds one of these per name; the session around them keeps the clock.
 */
import { TCPLayer } from '../layers/tcp.js';
import type { Packet } from '../packet/packet.js';
import type { Conversation } from '../tcp/conversation.js';
import type { SegmentView } from './format.js';
import { SequenceMap } from './sequence-map.js';

export class ScriptConnection {
  readonly map: SequenceMap;
  /** The handshake's round trip in seconds, once measured (our SYN or SYN-ACK to the answer). */
  rtt: number | undefined;
  /** When our SYN (or SYN-ACK) left, on the session clock. */
  synSentAt: number | undefined;
  /** performance.now() at the conversation's time 0: its trace times count from there. */
  readonly origin: number;
  /** Trace entries already handed to the run's report. */
  reported = 0;
  private lastFromPeer: SegmentView | undefined;
  /** Script-relative end of the peer's data seen so far. */
  private peerDataEnd: number | undefined;
  /** The peer's latest TS val as it was on the wire. */
  private lastPeerTsLive: number | undefined;

  constructor(
    /** The script's name for it; undefined in a script of one unnamed connection. */
    readonly name: string | undefined,
    readonly conversation: Conversation,
  ) {
    this.map = new SequenceMap(conversation.iss);
    this.origin = performance.now() - conversation.now();
  }

  /**
   * A retransmission: data wholly inside what the peer already sent (an RTO or a tail-loss
   * probe resends any of it), or a repeat of its previous segment (SYN-ACK, FIN, pure ACK).
   */
  isRepeat(v: SegmentView): boolean {
    if (v.length > 0 && this.peerDataEnd !== undefined && ((this.peerDataEnd - ((v.seq + v.length) >>> 0)) | 0) >= 0) return true;
    const last = this.lastFromPeer;
    return last !== undefined && last.flags === v.flags && last.seq === v.seq && last.length === v.length && last.ack === v.ack;
  }

  /** The peer's previous TS val in script terms (mapped now: the origin may have been learned since). */
  lastPeerTs(): number | undefined {
    return this.lastPeerTsLive === undefined ? undefined : this.map.serverTsToScript(this.lastPeerTsLive);
  }

  /** A segment that matched its line: the new last one, and the data and timestamp seen so far. */
  accepted(view: SegmentView, p: Packet): void {
    this.lastFromPeer = view;
    const end = (view.seq + view.length) >>> 0;
    if (view.length > 0 && (this.peerDataEnd === undefined || ((end - this.peerDataEnd) | 0) > 0)) this.peerDataEnd = end;
    const ts = liveTsVal(p);
    if (ts !== undefined) this.lastPeerTsLive = ts;
  }
}

function liveTsVal(p: Packet): number | undefined {
  for (const o of p.layer(TCPLayer).get('options') ?? []) if (o[0] === 'Timestamp' && Array.isArray(o[1])) return (o[1] as readonly number[])[0];
  return undefined;
}
