/**
 * Which captured packet answers which probe: Scapy's two steps, hash then answers(), with no
 * protocol knowledge here (as Scapy's sendrecv.py has none). Every layer says its part
 * (layers/layer.ts declares the defaults):
 *   hashret(above)                       its part of the direction-free key
 *   answers(sent, replyAbove, sentAbove) whether it answers the sent layer at its depth
 *   isNetworkLayer                       where keys and matching start (IPv4, IPv6)
 *   isErrorMessage                       an error whose payload quotes the probe (ICMP, ICMPv6)
 *   isExtensionHeader                    skipped on both sides (IPv6 extension headers)
 *   isPayload                            where matching stops (Raw, Padding)
 *
 * 1. matchKey: a probe and anything that may answer it share a key; an error is keyed by the
 *    packet it quotes, so it lands beside the probe it reports on.
 * 2. isAnswer: walks both stacks from the network layer up, asking each reply layer whether
 *    it answers the sent one. For an error, the network header that carries it answers first
 *    (addressed to the probe's source), then the quoted headers (IPerror, TCPerror, ...) are
 *    walked against what was sent. Both stacks should be dissected (the probe from the bytes
 *    that left, so computed fields such as proto and src are there).
 */
import type { Layer } from '../layers/layer.js';

/** Index of the first network header, or -1. */
export function networkIndex(layers: readonly Layer[]): number {
  for (let i = 0; i < layers.length; i++) if (layers[i]!.isNetworkLayer) return i;
  return -1;
}

function isExtension(layer: Layer): boolean {
  return 'isExtensionHeader' in layer;
}

function skipExtensions(layers: readonly Layer[], i: number): number {
  while (i < layers.length && isExtension(layers[i]!)) i++;
  return i;
}

/** Whether this layer is an error message (its payload quotes the offending packet). */
export function isErrorMessage(layer: Layer | undefined): boolean {
  return layer?.isErrorMessage ?? false;
}

/** The key of a network header and the transport above it (extension headers skipped). */
function keyFrom(layers: readonly Layer[], net: number): string {
  const upper = skipExtensions(layers, net + 1);
  let key = layers[net]!.hashret(layers.slice(net + 1));
  if (upper < layers.length && !layers[upper]!.isPayload) key += '|' + layers[upper]!.hashret(layers.slice(upper + 1));
  return key;
}

/**
 * The direction-free key: equal for a probe and anything that may answer it. '' when the
 * packet has no network layer (such packets share one bucket).
 */
export function matchKey(layers: readonly Layer[]): string {
  const net = networkIndex(layers);
  if (net < 0) return '';
  const upper = skipExtensions(layers, net + 1);
  if (isErrorMessage(layers[upper])) {
    const quoted = upper + 1;
    if (quoted < layers.length && layers[quoted]!.isNetworkLayer) return keyFrom(layers, quoted);
    return '';
  }
  return keyFrom(layers, net);
}

/** Whether `reply` answers `sent` (both as dissected layer stacks). */
export function isAnswer(sent: readonly Layer[], reply: readonly Layer[]): boolean {
  const sn = networkIndex(sent);
  const rn = networkIndex(reply);
  if (sn < 0 || rn < 0) return walk(sent, 0, reply, 0, false);
  const upper = skipExtensions(reply, rn + 1);
  if (isErrorMessage(reply[upper])) {
    // The header carrying the error answers first (it must come back to the probe's source).
    if (!reply[rn]!.answers(sent[sn]!, reply.slice(rn + 1), sent.slice(sn + 1))) return false;
    return walk(sent, sn, reply, upper + 1, true);
  }
  return walk(sent, sn, reply, rn, false);
}

/** Layer by layer from sent[i] and reply[j]; `quoted`: reply holds the quoted copy of sent. */
function walk(sent: readonly Layer[], i: number, reply: readonly Layer[], j: number, quoted: boolean): boolean {
  let depth = 0;
  let sentDepth = 0;
  for (let k = i; k < sent.length; k++) if (!sent[k]!.isPayload && !isExtension(sent[k]!)) sentDepth++;
  while (i < sent.length && j < reply.length) {
    const s = sent[i]!;
    const r = reply[j]!;
    if (s.isPayload || r.isPayload) break;
    if (!r.answers(s, reply.slice(j + 1), sent.slice(i + 1))) return false;
    depth++;
    i = skipExtensions(sent, i + 1);
    j = skipExtensions(reply, j + 1);
  }
  // The reply must reach the probe's transport layer (a quote at least its network header).
  return depth >= Math.min(quoted ? 1 : 2, sentDepth) && depth > 0;
}
