/**
 * Both endpoints' RFC 9293 states as a capture implies them, by the conversation engine's own
 * rules (src/tcp/tcb.ts observers): each segment is one the client sent and the server
 * received, or the other way round.
 */
import type { TcpState } from '../tcp/states.js';
import { observe, observer, type Endpoint, type ObservedSegment } from '../tcp/tcb.js';

export class EndpointPair {
  static skipEstablished = true;
  client: TcpState;
  server: TcpState;
  private readonly clientTcb: Endpoint = observer('client');
  private readonly serverTcb: Endpoint = observer('server');
  private readonly seg: ObservedSegment = { flags: 0, seq: 0, ack: 0, len: 0, window: 0 };

  constructor() {
    this.client = this.clientTcb.tcb.state;
    this.server = this.serverTcb.tcb.state;
  }

  /**
   * One segment, `fromClient` telling its direction; `wscale` the SYN's option (-1: none).
   * While both sides are ESTABLISHED, a segment without SYN, FIN or RST cannot change a state.
   * Such segments are folded, per direction, into one: from the first byte of their data to
   * the end of the last, with the latest acknowledgement and window. The fold is applied
   * before the next segment that can change a state, so the TCBs know the sequence numbers
   * that RST and FIN processing check, at a fraction of the work of a bulk transfer.
   */
  segment(fromClient: boolean, flags: number, seq: number, ack: number, len: number, window: number, wscale: number): void {
    if (EndpointPair.skipEstablished && (flags & 0x07) === 0 && this.client === 'ESTABLISHED' && this.server === 'ESTABLISHED') {
      const p = fromClient ? this.pendingClient : this.pendingServer;
      const end = (seq + len) >>> 0;
      if (!p.order) {
        p.seq = seq;
        p.end = end;
      } else if (len > 0) {
        if (p.end === p.seq) p.seq = seq;
        else if (((seq - p.seq) | 0) < 0) p.seq = seq;
        if (((end - p.end) | 0) > 0) p.end = end;
      }
      p.flags = flags;
      p.ack = ack;
      p.window = window;
      p.order = ++this.order;
      return;
    }
    const a = this.pendingClient;
    const b = this.pendingServer;
    if (a.order || b.order) {
      const [first, second] = a.order && (!b.order || a.order < b.order) ? [a, b] : [b, a];
      for (const p of [first, second]) {
        if (!p.order) continue;
        this.apply(p === a, p.flags, p.seq, p.ack, (p.end - p.seq) >>> 0, p.window, -1);
        p.order = 0;
      }
    }
    this.apply(fromClient, flags, seq, ack, len, window, wscale);
  }

  private order = 0;
  private readonly pendingClient = { flags: 0, seq: 0, end: 0, ack: 0, window: 0, order: 0 };
  private readonly pendingServer = { flags: 0, seq: 0, end: 0, ack: 0, window: 0, order: 0 };

  private apply(fromClient: boolean, flags: number, seq: number, ack: number, len: number, window: number, wscale: number): void {
    const s = this.seg;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.len = len;
    s.window = window;
    s.wscale = wscale >= 0 ? wscale : undefined;
    if (fromClient) {
      this.client = observe(this.clientTcb, s, 'sent');
      this.server = observe(this.serverTcb, s, 'received');
    } else {
      this.server = observe(this.serverTcb, s, 'sent');
      this.client = observe(this.clientTcb, s, 'received');
    }
  }
}
