/**
 * The names users write: IP({dst}), TCP({dport, flags}), Raw({load}). Each is a layer class
 * wrapped so that it needs no `new` and returns a one-layer Packet ready for .add().
 */
import { IPerrorLayer, IPv4Layer } from '../layers/ipv4.js';
import { PaddingLayer, RawLayer } from '../layers/raw.js';
import { TCPerrorLayer, TCPLayer } from '../layers/tcp.js';
import { EtherLayer } from '../layers/ether.js';
import { ARPLayer } from '../layers/arp.js';
import { CookedLinuxLayer, CookedLinuxV2Layer } from '../layers/sll.js';
import { LoopbackLayer } from '../layers/loopback.js';
import { UDPerrorLayer, UDPLayer } from '../layers/udp.js';
import { ICMPerrorLayer, ICMPLayer } from '../layers/icmp.js';
import { IPerror6Layer, IPv6Layer } from '../layers/ipv6.js';
import { IPv6ExtHdrDestOptLayer, IPv6ExtHdrFragmentLayer, IPv6ExtHdrHopByHopLayer, IPv6ExtHdrRoutingLayer } from '../layers/ipv6-ext.js';
import {
  ICMPv6DestUnreachLayer, ICMPv6EchoReplyLayer, ICMPv6EchoRequestLayer, ICMPv6ND_NALayer, ICMPv6ND_NSLayer,
  ICMPv6NDOptDstLLAddrLayer, ICMPv6NDOptSrcLLAddrLayer, ICMPv6NDOptUnknownLayer, ICMPv6PacketTooBigLayer,
  ICMPv6ParamProblemLayer, ICMPv6TimeExceededLayer, ICMPv6UnknownLayer,
  ICMPv6ND_RSLayer, ICMPv6ND_RALayer, ICMPv6ND_RedirectLayer, ICMPv6NDOptPrefixInfoLayer, ICMPv6NDOptMTULayer,
  ICMPv6NDOptRedirectedHdrLayer, ICMPv6NDOptRDNSSLayer,
} from '../layers/icmpv6.js';
import {
  ICMPv6NDOptAdvIntervalLayer, ICMPv6NDOptDNSSLLayer, ICMPv6NDOptHAInfoLayer, ICMPv6NDOptRouteInfoLayer,
} from '../layers/icmpv6-nd-options.js';
import { GRE_PPTPLayer, GRELayer } from '../layers/gre.js';
import { HDLCLayer, PPPLayer } from '../layers/ppp.js';
import { IGMPLayer, IGMPv3Layer, IGMPv3mqLayer, IGMPv3mrLayer, IGMPv3mraLayer } from '../layers/igmp.js';
import { NTPControlLayer, NTPHeaderLayer, NTPLayer, NTPPrivateLayer } from '../layers/ntp.js';
import { BOOTPLayer, DHCPLayer } from '../layers/dhcp.js';
import '../layers/option-packet.js';
import {
  DNSLayer, DNSQRLayer, DNSRRLayer, DNSRRMXLayer, DNSRROPTLayer, DNSRRSOALayer, DNSRRSRVLayer, EDNS0TLVLayer, type DNSInput, type DNSRROPTInput,
} from '../layers/dns.js';
import { Dot1ADLayer, Dot1QLayer } from '../layers/dot1q.js';
import { layerFactory, type LayerFactory } from './packet.js';

export const IP = layerFactory(IPv4Layer);
export const IPerror = layerFactory(IPerrorLayer);
export const TCP = layerFactory(TCPLayer);
export const TCPerror = layerFactory(TCPerrorLayer);
export const Raw = layerFactory(RawLayer);
export const Padding = layerFactory(PaddingLayer);
export const Ether = layerFactory(EtherLayer);
export const ARP = layerFactory(ARPLayer);
export const CookedLinux = layerFactory(CookedLinuxLayer);
export const CookedLinuxV2 = layerFactory(CookedLinuxV2Layer);
export const Loopback = layerFactory(LoopbackLayer);
export const UDP = layerFactory(UDPLayer);
export const UDPerror = layerFactory(UDPerrorLayer);
export const ICMP = layerFactory(ICMPLayer);
export const ICMPerror = layerFactory(ICMPerrorLayer);
export const IPv6 = layerFactory(IPv6Layer);
export const IPerror6 = layerFactory(IPerror6Layer);
export const IPv6ExtHdrHopByHop = layerFactory(IPv6ExtHdrHopByHopLayer);
export const IPv6ExtHdrRouting = layerFactory(IPv6ExtHdrRoutingLayer);
export const IPv6ExtHdrFragment = layerFactory(IPv6ExtHdrFragmentLayer);
export const IPv6ExtHdrDestOpt = layerFactory(IPv6ExtHdrDestOptLayer);
export const ICMPv6Unknown = layerFactory(ICMPv6UnknownLayer);
export const ICMPv6DestUnreach = layerFactory(ICMPv6DestUnreachLayer);
export const ICMPv6PacketTooBig = layerFactory(ICMPv6PacketTooBigLayer);
export const ICMPv6TimeExceeded = layerFactory(ICMPv6TimeExceededLayer);
export const ICMPv6ParamProblem = layerFactory(ICMPv6ParamProblemLayer);
export const ICMPv6EchoRequest = layerFactory(ICMPv6EchoRequestLayer);
export const ICMPv6EchoReply = layerFactory(ICMPv6EchoReplyLayer);
export const ICMPv6ND_NS = layerFactory(ICMPv6ND_NSLayer);
export const ICMPv6ND_NA = layerFactory(ICMPv6ND_NALayer);
export const ICMPv6NDOptSrcLLAddr = layerFactory(ICMPv6NDOptSrcLLAddrLayer);
export const ICMPv6NDOptDstLLAddr = layerFactory(ICMPv6NDOptDstLLAddrLayer);
export const ICMPv6NDOptUnknown = layerFactory(ICMPv6NDOptUnknownLayer);
export const GRE = layerFactory(GRELayer);
export const GRE_PPTP = layerFactory(GRE_PPTPLayer);
export const PPP = layerFactory(PPPLayer);
export const HDLC = layerFactory(HDLCLayer);
export const IGMP = layerFactory(IGMPLayer);
export const IGMPv3 = layerFactory(IGMPv3Layer);
export const IGMPv3mq = layerFactory(IGMPv3mqLayer);
export const IGMPv3mr = layerFactory(IGMPv3mrLayer);
export const IGMPv3mra = layerFactory(IGMPv3mraLayer);
export const NTP = layerFactory(NTPLayer);
export const NTPHeader = layerFactory(NTPHeaderLayer);
export const NTPControl = layerFactory(NTPControlLayer);
export const NTPPrivate = layerFactory(NTPPrivateLayer);
export const BOOTP = layerFactory(BOOTPLayer);
export const DHCP = layerFactory(DHCPLayer);
export const ICMPv6ND_RS = layerFactory(ICMPv6ND_RSLayer);
export const ICMPv6ND_RA = layerFactory(ICMPv6ND_RALayer);
export const ICMPv6ND_Redirect = layerFactory(ICMPv6ND_RedirectLayer);
export const ICMPv6NDOptPrefixInfo = layerFactory(ICMPv6NDOptPrefixInfoLayer);
export const ICMPv6NDOptMTU = layerFactory(ICMPv6NDOptMTULayer);
export const ICMPv6NDOptRedirectedHdr = layerFactory(ICMPv6NDOptRedirectedHdrLayer);
export const ICMPv6NDOptRDNSS = layerFactory(ICMPv6NDOptRDNSSLayer);
export const ICMPv6NDOptDNSSL = layerFactory(ICMPv6NDOptDNSSLLayer);
export const ICMPv6NDOptRouteInfo = layerFactory(ICMPv6NDOptRouteInfoLayer);
export const ICMPv6NDOptAdvInterval = layerFactory(ICMPv6NDOptAdvIntervalLayer);
export const ICMPv6NDOptHAInfo = layerFactory(ICMPv6NDOptHAInfoLayer);
// Sections take records as DNSQR(...)/DNSRR(...) give them (packets), or lists of them.
export const DNS = layerFactory(DNSLayer) as unknown as LayerFactory<DNSLayer, DNSInput>;
export const DNSQR = layerFactory(DNSQRLayer);
export const DNSRR = layerFactory(DNSRRLayer);
export const DNSRRSOA = layerFactory(DNSRRSOALayer);
export const DNSRRMX = layerFactory(DNSRRMXLayer);
export const DNSRRSRV = layerFactory(DNSRRSRVLayer);
export const DNSRROPT = layerFactory(DNSRROPTLayer) as unknown as LayerFactory<DNSRROPTLayer, DNSRROPTInput>;
export const EDNS0TLV = layerFactory(EDNS0TLVLayer);
export const Dot1Q = layerFactory(Dot1QLayer);
export const Dot1AD = layerFactory(Dot1ADLayer);
