/**
 * Matching replies to probes (sr/match.ts) without root: probes and replies built here, both
 * dissected from their bytes as they would come off the wire. The rules are the layers' own
 * (hashret, answers, isErrorMessage...); the matcher only walks the stacks.
 */
import { describe, expect, it } from 'vitest';
import { ICMP, ICMPv6DestUnreach, ICMPv6EchoReply, ICMPv6EchoRequest, IP, IPv6, TCP, UDP, dissect, type Packet } from '../src/index.js';
import { isAnswer, matchKey } from '../src/sr/match.js';

const wire = (p: Packet) => dissect(p.bytes(), 'ip').layers;

function pair(sent: Packet, reply: Packet): { answers: boolean; sameKey: boolean } {
  const s = wire(sent);
  const r = wire(reply);
  return { answers: isAnswer(s, r), sameKey: matchKey(s) === matchKey(r) };
}

const A = '127.0.0.1';
const B = '127.0.0.2';
const syn = IP({ src: A, dst: B }).add(TCP({ sport: 40000, dport: 80, flags: 'S', seq: 1000 }));

describe('isAnswer and matchKey', () => {
  it('a SYN-ACK or a RST answers a SYN; the wrong ports, seq or direction do not', () => {
    expect(pair(syn, IP({ src: B, dst: A }).add(TCP({ sport: 80, dport: 40000, flags: 'SA', ack: 1001 })))).toEqual({ answers: true, sameKey: true });
    expect(pair(syn, IP({ src: B, dst: A }).add(TCP({ sport: 80, dport: 40000, flags: 'RA', ack: 1001 })))).toEqual({ answers: true, sameKey: true });
    expect(pair(syn, IP({ src: B, dst: A }).add(TCP({ sport: 80, dport: 40001, flags: 'SA', ack: 1001 }))).answers).toBe(false);
    expect(pair(syn, IP({ src: B, dst: A }).add(TCP({ sport: 80, dport: 40000, flags: 'SA', ack: 5000 }))).answers).toBe(false);
    // Our own SYN seen again on the way out is not its answer.
    expect(pair(syn, syn).answers).toBe(false);
    // A reply addressed elsewhere.
    expect(pair(syn, IP({ src: B, dst: '127.0.0.3' }).add(TCP({ sport: 80, dport: 40000, flags: 'SA', ack: 1001 }))).answers).toBe(false);
  });

  it('an ICMP port unreachable answers the UDP datagram it quotes, from any router', () => {
    const probe = IP({ src: A, dst: B }).add(UDP({ sport: 5000, dport: 33434 })).add('x');
    const quote = probe.bytes();
    const error = IP({ src: '127.0.0.9', dst: A }).add(ICMP({ type: 3, code: 3 })).add(quote);
    expect(pair(probe, error)).toEqual({ answers: true, sameKey: true });
    // The same error about another datagram does not answer this one.
    const other = IP({ src: A, dst: B }).add(UDP({ sport: 5001, dport: 33434 })).add('x');
    expect(pair(other, error).answers).toBe(false);
    // Nor one sent to someone else.
    expect(pair(probe, IP({ src: '127.0.0.9', dst: '127.0.0.7' }).add(ICMP({ type: 3, code: 3 })).add(quote)).answers).toBe(false);
  });

  it('echo replies answer by id and seq, over IPv4 and IPv6', () => {
    const ping = IP({ src: A, dst: B }).add(ICMP({ type: 8, id: 7, seq: 1 }));
    expect(pair(ping, IP({ src: B, dst: A }).add(ICMP({ type: 0, id: 7, seq: 1 })))).toEqual({ answers: true, sameKey: true });
    expect(pair(ping, IP({ src: B, dst: A }).add(ICMP({ type: 0, id: 7, seq: 2 }))).answers).toBe(false);
    const ping6 = IPv6({ src: '::1', dst: '2001:db8::2' }).add(ICMPv6EchoRequest({ id: 9, seq: 3 }));
    expect(pair(ping6, IPv6({ src: '2001:db8::2', dst: '::1' }).add(ICMPv6EchoReply({ id: 9, seq: 3 })))).toEqual({ answers: true, sameKey: true });
    expect(pair(ping6, IPv6({ src: '2001:db8::2', dst: '::1' }).add(ICMPv6EchoReply({ id: 9, seq: 4 }))).answers).toBe(false);
  });

  it('an ICMPv6 error answers the TCP segment it quotes', () => {
    const probe = IPv6({ src: '2001:db8::1', dst: '2001:db8::2' }).add(TCP({ sport: 40000, dport: 80, flags: 'S' }));
    const error = IPv6({ src: '2001:db8::fe', dst: '2001:db8::1' }).add(ICMPv6DestUnreach({ code: 4 })).add(probe.bytes());
    expect(pair(probe, error)).toEqual({ answers: true, sameKey: true });
    const other = IPv6({ src: '2001:db8::1', dst: '2001:db8::2' }).add(TCP({ sport: 40001, dport: 80, flags: 'S' }));
    expect(pair(other, error).answers).toBe(false);
  });
});
