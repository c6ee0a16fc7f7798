/**
 * The first layer for each link type dissect() starts from. Raw IP picks IPv4 or IPv6 by the
 * version nibble; layers that are not written yet fall back to Raw.
 */
import { IPv4Layer } from '../layers/ipv4.js';
import { layerByName } from '../layers/registry.js';
import type { LayerClass } from '../layers/layer.js';
import { RawLayer } from '../layers/raw.js';
import { registerLinkType } from './dissect.js';

function byName(name: string): LayerClass {
  return layerByName(name) ?? RawLayer;
}

function rawIP(buf: Buffer): LayerClass {
  const version = buf.length > 0 ? buf[0]! >> 4 : 4;
  return version === 6 ? byName('IPv6') : IPv4Layer;
}

registerLinkType('ip', rawIP);
registerLinkType('ipv4', IPv4Layer);
registerLinkType('ipv6', () => byName('IPv6'));
registerLinkType('ether', () => byName('Ether'));
registerLinkType('sll', () => byName('CookedLinux'));
registerLinkType('sll2', () => byName('CookedLinuxV2'));
registerLinkType('null', () => byName('Loopback'));
registerLinkType('loop', () => byName('Loopback'));
// pcap LINKTYPE numbers: NULL 0, ETHERNET 1, RAW 101, LINUX_SLL 113, LOOP 108, IPV4 228, IPV6 229, LINUX_SLL2 276.
registerLinkType(0, () => byName('Loopback'));
registerLinkType(1, () => byName('Ether'));
registerLinkType(101, rawIP);
registerLinkType(108, () => byName('Loopback'));
registerLinkType(113, () => byName('CookedLinux'));
registerLinkType(228, IPv4Layer);
registerLinkType(229, () => byName('IPv6'));
registerLinkType(276, () => byName('CookedLinuxV2'));
