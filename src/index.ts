// The public types use Node's (Buffer, AbortSignal, streams): users get them from the @types/node
// that synack depends on, without naming it in their tsconfig (TypeScript 6 and later default to no
// global types). preserve="true" keeps the directive in dist/index.d.ts.
/// <reference types="node" preserve="true" />
/**
 * synack's public API: layers to compose, packet() for the text form, dissect() for bytes.
 */
import './packet/link-types.js';
import './show/index.js';

export { Packet, buildPacket, type LayerFactory, type LayerKey } from './packet/packet.js';
export { dissect, type LinkType } from './packet/dissect.js';
export { packet } from './packet/text/index.js';
export { expand, packets, count as packetCount } from './packet/sets.js';
export { fuzz, type FuzzOptions } from './packet/fuzz.js';
export * from './packet/factories.js';
export { Layer } from './layers/layer.js';
export { IPv4Layer, IPerrorLayer, type IPv4Fields } from './layers/ipv4.js';
export { TCPLayer, TCPerrorLayer, TCPFlag, formatTCPFlags, parseTCPFlags, type TCPFields } from './layers/tcp.js';
export type { TCPOption } from './layers/tcp-options.js';
export type { IPOption } from './layers/ipv4-options.js';
export { IPv6Layer, IPerror6Layer, type IPv6Fields } from './layers/ipv6.js';
export {
  IPv6ExtHdrHopByHopLayer, IPv6ExtHdrRoutingLayer, IPv6ExtHdrFragmentLayer, IPv6ExtHdrDestOptLayer,
  type IPv6OptionsHeaderFields, type IPv6ExtHdrRoutingFields, type IPv6ExtHdrFragmentFields,
} from './layers/ipv6-ext.js';
export type { IPv6ExtOption } from './layers/ipv6-ext-options.js';
export {
  ICMPv6Layer, ICMPv6UnknownLayer, ICMPv6DestUnreachLayer, ICMPv6PacketTooBigLayer, ICMPv6TimeExceededLayer,
  ICMPv6ParamProblemLayer, ICMPv6EchoRequestLayer, ICMPv6EchoReplyLayer, ICMPv6ND_NSLayer, ICMPv6ND_NALayer,
  ICMPv6NDOptSrcLLAddrLayer, ICMPv6NDOptDstLLAddrLayer, ICMPv6NDOptUnknownLayer,
  ICMPv6ND_RSLayer, ICMPv6ND_RALayer, ICMPv6ND_RedirectLayer, ICMPv6NDOptPrefixInfoLayer, ICMPv6NDOptMTULayer,
  ICMPv6NDOptRedirectedHdrLayer, ICMPv6NDOptRDNSSLayer,
} from './layers/icmpv6.js';
export { ICMPv6NDOptAdvIntervalLayer, ICMPv6NDOptHAInfoLayer, ICMPv6NDOptRouteInfoLayer, ICMPv6NDOptDNSSLLayer } from './layers/icmpv6-nd-options.js';
export { RawLayer, PaddingLayer } from './layers/raw.js';
export { EtherLayer, type EtherFields } from './layers/ether.js';
export { ARPLayer, ARP_OPS, type ARPFields, type ARPAddress } from './layers/arp.js';
export { CookedLinuxLayer, CookedLinuxV2Layer, type CookedLinuxFields, type CookedLinuxV2Fields } from './layers/sll.js';
export { LoopbackLayer, type LoopbackFields } from './layers/loopback.js';
export { UDPLayer, UDPerrorLayer, type UDPFields } from './layers/udp.js';
export { ICMPLayer, ICMPerrorLayer, ICMP_TYPES, ICMP_CODES, type ICMPFields } from './layers/icmp.js';
export { GRELayer, GRE_PPTPLayer, type GREFields, type GRE_PPTPFields } from './layers/gre.js';
export { PPPLayer, HDLCLayer, type PPPFields, type HDLCFields } from './layers/ppp.js';
export { IGMPLayer, IGMPv3Layer, IGMPv3mqLayer, IGMPv3mrLayer, IGMPv3mraLayer, type IGMPFields, type IGMPv3GroupRecord } from './layers/igmp.js';
export { NTPLayer, NTPHeaderLayer, NTPControlLayer, NTPPrivateLayer, ntpSeconds, NTP_UNIX_OFFSET, type NTPFields, type NTPControlFields, type NTPPrivateFields, type NTPTimestamp } from './layers/ntp.js';
export { BOOTPLayer, DHCPLayer, macBytes, DHCP_MESSAGE_TYPES, type BOOTPFields, type DHCPOption } from './layers/dhcp.js';
export {
  DNSLayer, DNSQRLayer, DNSRRLayer, DNSRRSOALayer, DNSRRMXLayer, DNSRRSRVLayer, DNSRROPTLayer, EDNS0TLVLayer, DNSRecordLayer,
  type DNSFields, type DNSQRFields, type DNSRRFields, type DNSInput, type RecordsInput,
} from './layers/dns.js';
export { Dot1QLayer, Dot1ADLayer, type Dot1QFields } from './layers/dot1q.js';
export { SynackError } from './wire/errors.js';
export { internetChecksum } from './wire/checksum.js';
export {
  readPcap, readPcapBatches, readPcapSync, readPcapBatchesSync, readPackets, readPacketsSync, recordToPacket,
  PcapRecord, CaptureFileError, formatEpoch, type ReadOptions, type CaptureInterface, type CaptureFormat, type InterfaceListener,
} from './pcap/read.js';
export { writePcap, writePcapng, PcapWriter, type PcapWriterOptions, type PcapTimestamp, type PcapWriteOptions } from './pcap/pcap-writer.js';
export { PcapngWriter } from './pcap/pcapng-writer.js';
export type { CaptureWriter, CaptureWriterOptions } from './pcap/capture-writer.js';
export { linkTypeDescription, linkTypeNumber } from './pcap/link-type-names.js';
export { compileFilter, type CompiledFilter, type FrameTest } from './pcap/filter/index.js';
export { send, sendp, sniff, Sniffer, sr, sr1, type SendOptions, type SniffOptions, type SrOptions, type SrResult, type Answer, type PacketInput } from './sr/index.js';
export { createPrinter, type Printer, type PrinterOptions, type CapturedFrame } from './show/index.js';
export { ls, type LsSubject } from './show/ls.js';
export { connect, openConversation, type ConnectOptions } from './tcp/connect.js';
export { Conversation, type ConversationOptions, type SegmentSpec, type SegmentMatch, type TraceEntry } from './tcp/conversation.js';
export type { TcpState } from './tcp/states.js';
export { installGuard, sweepGuards, flushGuards, SYNACK_MARK, type Guard, type FourTuple, type PortScope, type GuardScope } from './tcp/guard.js';
export { listen, type ListenOptions } from './tcp/listen.js';
export { traceLines, traceLadder, traceLadderSvg, type TraceLineOptions } from './tcp/trace.js';
export { renderLadder, renderLadderSvg, type LadderEntry, type LadderOptions } from './show/ladder.js';
export { labUp, labDown, labStatus, labExec, labSpawn, labRun, labServe, hostAddress, type LabUpOptions, type LabStatus } from './lab/index.js';
export { parseScript, parseSegment, runScript, recordConversation, ScriptSession, ScriptCheckError, ScriptSyntaxError, type RunOptions, type RunResult, type SessionOptions, type RecordOptions } from './script/index.js';
export {
  Analyzer,
  analyze,
  analyzeSync,
  framesOf,
  conversations,
  follow,
  followFile,
  Explainer,
  explainTrace,
  formatExplanation,
  frameOf,
  formatConversations,
  formatFollow,
  Flag,
  FLAGS,
  type SegmentAnalysis,
  type FrameInput,
  type FlagName,
  type ConversationStats,
  type ConvKind,
  type FollowChunk,
  type FollowStreams,
  type Explanation,
  type TraceExplanation,
} from './analysis/index.js';
export { renderView, writeView, renderFileView, mergeTraces, type ViewInput, type ViewOptions, type ViewFrame } from './view/index.js';
