/**
 * The names users write: IP({dst}), TCP({dport, flags}), Raw({load}). Each is a layer class
 * wrapped so that it needs no `new` and returns a one-layer Packet ready for .add().
 */
import { IPerrorLayer, IPv4Layer } from '../layers/ipv4.js';
import { PaddingLayer, RawLayer } from '../layers/raw.js';
import { TCPerrorLayer, TCPLayer } from '../layers/tcp.js';
import { layerFactory } from './packet.js';

export const IP = layerFactory(IPv4Layer);
export const IPerror = layerFactory(IPerrorLayer);
export const TCP = layerFactory(TCPLayer);
export const TCPerror = layerFactory(TCPerrorLayer);
export const Raw = layerFactory(RawLayer);
export const Padding = layerFactory(PaddingLayer);
