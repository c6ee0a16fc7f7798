/**
 * SYN options: what we offer (Linux's order), what a SYN-ACK may answer (only what the peer's
 * SYN offered: RFC 7323, RFC 2018), and what both sides agreed once the peer's SYN is in.
 * Pure: the clock's TSval is passed in.
 */
import type { TCPOption } from '../layers/tcp-options.js';

export interface OptionPrefs {
  mss?: number;
  wscale?: number | false;
  sack?: boolean;
  timestamps?: boolean;
  /** Exactly these options on the SYN (or SYN-ACK) instead of the ones above. */
  options?: TCPOption[];
}

/** What the handshake settled. */
export interface Negotiated {
  peerMss: number;
  peerWscale: number;
  ourWscale: number;
  sackPermitted: boolean;
  timestamps: boolean;
  /** The last TSval the peer sent (our TSecr). */
  tsRecent: number;
}

export const DEFAULT_MSS = 1460;
/** RFC 9293 §3.7.1: without an MSS option, 536. */
export const DEFAULT_PEER_MSS = 536;
const MAX_WSCALE = 14;

export function initialNegotiation(prefs: OptionPrefs): Negotiated {
  return { peerMss: DEFAULT_PEER_MSS, peerWscale: 0, ourWscale: prefs.wscale === false ? 0 : (prefs.wscale ?? 7), sackPermitted: false, timestamps: false, tsRecent: 0 };
}

export function synOptions(prefs: OptionPrefs, tsVal: number, ourWscale: number): TCPOption[] {
  if (prefs.options) return prefs.options;
  const opts: TCPOption[] = [['MSS', prefs.mss ?? DEFAULT_MSS]];
  if (prefs.sack !== false) opts.push(['SAckOK']);
  if (prefs.timestamps !== false) opts.push(['Timestamp', [tsVal, 0]]);
  else if (prefs.sack !== false) opts.push(['NOP'], ['NOP']);
  if (prefs.wscale !== false) opts.push(['NOP'], ['WScale', ourWscale]);
  return opts;
}

export function synAckOptions(prefs: OptionPrefs, peerSyn: readonly TCPOption[], n: Negotiated, tsVal: number): TCPOption[] {
  if (prefs.options) return prefs.options;
  const offered = (kind: string): boolean => peerSyn.some((o) => o[0] === kind);
  const opts: TCPOption[] = [['MSS', prefs.mss ?? DEFAULT_MSS]];
  const sack = prefs.sack !== false && offered('SAckOK');
  if (sack) opts.push(['SAckOK']);
  if (n.timestamps) opts.push(['Timestamp', [tsVal, n.tsRecent]]);
  else if (sack) opts.push(['NOP'], ['NOP']);
  if (prefs.wscale !== false && offered('WScale')) opts.push(['NOP'], ['WScale', n.ourWscale]);
  return opts;
}

/** What the peer's SYN (or SYN-ACK) settles, given what we offer. */
export function negotiate(prefs: OptionPrefs, peerSyn: readonly TCPOption[], before: Negotiated): Negotiated {
  const n = { ...before };
  let sawWscale = false;
  for (const opt of peerSyn) {
    if (opt[0] === 'MSS' && typeof opt[1] === 'number') n.peerMss = opt[1];
    else if (opt[0] === 'WScale' && typeof opt[1] === 'number') {
      n.peerWscale = Math.min(opt[1], MAX_WSCALE);
      sawWscale = true;
    } else if (opt[0] === 'SAckOK') n.sackPermitted = prefs.sack !== false;
    else if (opt[0] === 'Timestamp' && Array.isArray(opt[1])) {
      n.timestamps = prefs.timestamps !== false && !prefs.options;
      n.tsRecent = (opt[1] as readonly number[])[0]!;
    }
  }
  // Window scaling applies only when both sides offered it (RFC 7323 §2.2).
  if (!sawWscale || prefs.wscale === false) {
    n.peerWscale = 0;
    n.ourWscale = 0;
  }
  return n;
}

/** The TSval a segment carries, if any. */
export function tsValOf(options: readonly TCPOption[] | undefined): number | undefined {
  for (const opt of options ?? []) {
    if (opt[0] === 'Timestamp' && Array.isArray(opt[1])) return (opt[1] as readonly number[])[0]!;
  }
  return undefined;
}
