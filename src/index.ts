/**
 * synack's public API: layers to compose, packet() for the text form, dissect() for bytes.
 */
import './packet/link-types.js';

export { Packet, buildPacket, type LayerFactory, type LayerKey } from './packet/packet.js';
export { dissect, type LinkType } from './packet/dissect.js';
export * from './packet/factories.js';
export { Layer } from './layers/layer.js';
export { IPv4Layer, IPerrorLayer, type IPv4Fields } from './layers/ipv4.js';
export { TCPLayer, TCPerrorLayer, TCPFlag, formatTCPFlags, parseTCPFlags, type TCPFields } from './layers/tcp.js';
export type { TCPOption } from './layers/tcp-options.js';
export type { IPOption } from './layers/ipv4-options.js';
export { RawLayer, PaddingLayer } from './layers/raw.js';
export { SynackError } from './wire/errors.js';
export { internetChecksum } from './wire/checksum.js';
