/**
 * Both endpoints' RFC 9293 states as a capture implies them, by the conversation engine's own
 * rules (src/tcp/tcb.ts observers): each segment is one the client sent and the server
 * received, or the other way round.
 */
import type { TcpState } from '../tcp/states.js';
import { observe, observer, type Endpoint, type ObservedSegment } from '../tcp/tcb.js';

export class EndpointPair {
  client: TcpState;
  server: TcpState;
  private readonly clientTcb: Endpoint = observer('client');
  private readonly serverTcb: Endpoint = observer('server');
  private readonly seg: ObservedSegment = { flags: 0, seq: 0, ack: 0, len: 0, window: 0 };

  constructor() {
    this.client = this.clientTcb.tcb.state;
    this.server = this.serverTcb.tcb.state;
  }

  /** One segment, `fromClient` telling its direction; `wscale` the SYN's option (-1: none). */
  segment(fromClient: boolean, flags: number, seq: number, ack: number, len: number, window: number, wscale: number): void {
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
