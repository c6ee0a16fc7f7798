/**
 * BOOTP (RFC 951) and DHCP (RFC 2131, options RFC 2132) with Scapy's names and bytes: BOOTP's
 * fixed 236 bytes (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr,
 * chaddr, sname, file) and its `options` field, which holds the DHCP magic cookie when a DHCP
 * layer follows (Scapy's binding); DHCP's `options` is Scapy's list:
 * `[['message-type', 'discover'], ['requested_addr', '198.51.100.10'], 'end']`, each item a
 * tuple (name or code, values...), a bare name ('end', 'pad'), a bare code (code and a zero
 * length) or raw bytes. Values are written as Scapy writes them: addresses for address options,
 * numbers for number options, bytes or text for the rest.
 *
 * As in Scapy, chaddr is 16 bytes given as bytes: a MAC written as text is written as its
 * characters (Scapy 2.5 does the same); give b'\x00\x11\x22\x33\x44\x55' or use macBytes().
 * Over UDP, BOOTP binds to ports 67 and 68 both ways (a client sends 68 > 67).
 */
import { formatIPv4, writeIPv4, writeMAC } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import type { FieldSpec } from './field.js';
import { intField } from './field.js';
import { Layer, type BuildContext, type DecodeContext, type Decoded, type FieldValues } from './layer.js';
import { bind, registerLayer } from './registry.js';
import { toBytes } from './raw.js';
import { UDPLayer } from './udp.js';

const DHCP_MAGIC = Buffer.from([0x63, 0x82, 0x53, 0x63]);
const BOOTP_FIXED = 236;

export interface BOOTPFields {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  /** Bit 15 is broadcast ('B'). */
  flags: number | string;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: Buffer | string;
  sname: Buffer | string;
  file: Buffer | string;
  /** The vendor area: the DHCP magic cookie (computed when DHCP follows), or raw bytes. */
  options: Buffer | string;
}

const bootpFields: readonly FieldSpec[] = [
  intField('op', 8, 1, { names: { 1: 'BOOTREQUEST', 2: 'BOOTREPLY' } }),
  intField('htype', 8, 1, { names: { 1: 'Ethernet (10Mb)' } }),
  intField('hlen', 8, 6),
  intField('hops', 8, 0),
  intField('xid', 32, 0, { hex: true }),
  intField('secs', 16, 0),
  { name: 'flags', kind: 'flags', bits: 16, default: 0, flagLetters: '?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,B' },
  { name: 'ciaddr', kind: 'ipv4', default: '0.0.0.0' },
  { name: 'yiaddr', kind: 'ipv4', default: '0.0.0.0' },
  { name: 'siaddr', kind: 'ipv4', default: '0.0.0.0' },
  { name: 'giaddr', kind: 'ipv4', default: '0.0.0.0' },
  { name: 'chaddr', kind: 'bytes', default: Buffer.alloc(0) },
  { name: 'sname', kind: 'bytes', default: Buffer.alloc(0) },
  { name: 'file', kind: 'bytes', default: Buffer.alloc(0) },
  { name: 'options', kind: 'bytes', default: Buffer.alloc(0), computed: true },
];

/** The 6 bytes of a MAC written as text, for BOOTP's chaddr (Scapy's mac2str). */
export function macBytes(mac: string): Buffer {
  const out = Buffer.alloc(6);
  writeMAC(mac, out, 0);
  return out;
}

function parseBootpFlags(value: number | string): number {
  if (typeof value === 'number') return value;
  let bits = 0;
  for (const part of value.split(/[+|, ]+/).filter(Boolean)) {
    if (part !== 'B') throw usageError(`unknown BOOTP flag '${part}': the one flag is B (broadcast), e.g. flags='B'`);
    bits |= 0x8000;
  }
  return bits;
}

/** A fixed-length string field: the bytes given, cut or zero-padded to `size` (Scapy's StrFixedLenField). */
function writeFixed(value: Buffer | string | undefined, out: Buffer, off: number, size: number): void {
  const b = toBytes(value);
  out.fill(0, off, off + size);
  b.copy(out, off, 0, Math.min(b.length, size));
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface BOOTPLayer extends FieldValues<Omit<BOOTPFields, 'flags'>> {}

export class BOOTPLayer extends Layer<BOOTPFields> {
  static readonly layerName: string = 'BOOTP';
  static readonly fieldSpecs = bootpFields;

  protected override normalize(fields: Partial<BOOTPFields>): Partial<BOOTPFields> {
    super.normalize(fields);
    if (fields.flags !== undefined) fields.flags = parseBootpFlags(fields.flags);
    for (const k of ['ciaddr', 'yiaddr', 'siaddr', 'giaddr'] as const) if (fields[k] !== undefined) writeIPv4(fields[k], Buffer.alloc(4), 0);
    return fields;
  }

  private vendor(ctx: BuildContext, index: number): Buffer {
    if (this.fields.options !== undefined) return toBytes(this.fields.options);
    return ctx.layers[index + 1] instanceof DHCPLayer ? DHCP_MAGIC : Buffer.alloc(0);
  }

  headerLength(ctx: BuildContext, index: number): number {
    return BOOTP_FIXED + this.vendor(ctx, index).length;
  }

  encode(out: Buffer, off: number, _payloadLength: number, ctx: BuildContext, index: number): void {
    const f = this.fields;
    out[off] = (f.op ?? 1) & 0xff;
    out[off + 1] = (f.htype ?? 1) & 0xff;
    out[off + 2] = (f.hlen ?? 6) & 0xff;
    out[off + 3] = (f.hops ?? 0) & 0xff;
    out.writeUInt32BE((f.xid ?? 0) >>> 0, off + 4);
    out.writeUInt16BE((f.secs ?? 0) & 0xffff, off + 8);
    out.writeUInt16BE(((f.flags as number | undefined) ?? 0) & 0xffff, off + 10);
    writeIPv4(f.ciaddr ?? '0.0.0.0', out, off + 12);
    writeIPv4(f.yiaddr ?? '0.0.0.0', out, off + 16);
    writeIPv4(f.siaddr ?? '0.0.0.0', out, off + 20);
    writeIPv4(f.giaddr ?? '0.0.0.0', out, off + 24);
    writeFixed(f.chaddr, out, off + 28, 16);
    writeFixed(f.sname, out, off + 44, 64);
    writeFixed(f.file, out, off + 108, 128);
    this.vendor(ctx, index).copy(out, off + BOOTP_FIXED);
  }

  static decode(buf: Buffer, off: number, end: number, ctx: DecodeContext): Decoded {
    const layer = new this();
    const f = layer.fields;
    const avail = end - off;
    const b = avail >= BOOTP_FIXED ? buf : Buffer.concat([buf.subarray(off, end), Buffer.alloc(BOOTP_FIXED - avail)]);
    const o = avail >= BOOTP_FIXED ? off : 0;
    f.op = b[o]!;
    f.htype = b[o + 1]!;
    f.hlen = b[o + 2]!;
    f.hops = b[o + 3]!;
    f.xid = b.readUInt32BE(o + 4);
    f.secs = b.readUInt16BE(o + 8);
    f.flags = b.readUInt16BE(o + 10);
    f.ciaddr = formatIPv4(b, o + 12);
    f.yiaddr = formatIPv4(b, o + 16);
    f.siaddr = formatIPv4(b, o + 20);
    f.giaddr = formatIPv4(b, o + 24);
    f.chaddr = Buffer.from(b.subarray(o + 28, o + 44));
    f.sname = Buffer.from(b.subarray(o + 44, o + 108));
    f.file = Buffer.from(b.subarray(o + 108, o + 236));
    if (avail < BOOTP_FIXED) {
      f.options = Buffer.alloc(0);
      layer.truncatedTo = Math.max(avail, 0);
      if (!ctx.quoted) layer.addProblem('[|bootp]');
      return { layer, payloadStart: end, payloadEnd: end };
    }
    const vend = buf.subarray(off + BOOTP_FIXED, end);
    if (vend.length >= 4 && vend.subarray(0, 4).equals(DHCP_MAGIC)) {
      f.options = Buffer.from(DHCP_MAGIC);
      return { layer, payloadStart: off + BOOTP_FIXED + 4, payloadEnd: end, next: DHCPLayer };
    }
    f.options = Buffer.from(vend);
    return { layer, payloadStart: end, payloadEnd: end };
  }

  /** A reply carries the transaction id of the request it answers (Scapy's hashret and answers). */
  hashret(): string {
    return String(this.fields.xid ?? 0);
  }

  answers(other: Layer): boolean {
    return other instanceof BOOTPLayer && (other.fields.xid ?? 0) === (this.fields.xid ?? 0);
  }
}

// ---------------------------------------------------------------------------------------------
// DHCP options: Scapy's table (code, name, how the value is written).

type OptionKind = 'ip' | 'int' | 'short' | 'byte' | 'msgtype' | 'str' | 'raw' | 'bytelist';

const OPTION_TABLE: readonly [number, string, OptionKind][] = [
  [0, 'pad', 'raw'],
  [1, 'subnet_mask', 'ip'],
  [2, 'time_zone', 'int'],
  [3, 'router', 'ip'],
  [4, 'time_server', 'ip'],
  [5, 'IEN_name_server', 'ip'],
  [6, 'name_server', 'ip'],
  [7, 'log_server', 'ip'],
  [8, 'cookie_server', 'ip'],
  [9, 'lpr_server', 'ip'],
  [10, 'impress-servers', 'ip'],
  [11, 'resource-location-servers', 'ip'],
  [12, 'hostname', 'raw'],
  [13, 'boot-size', 'short'],
  [14, 'dump_path', 'raw'],
  [15, 'domain', 'raw'],
  [16, 'swap-server', 'ip'],
  [17, 'root_disk_path', 'raw'],
  [18, 'extensions-path', 'raw'],
  [19, 'ip-forwarding', 'byte'],
  [20, 'non-local-source-routing', 'byte'],
  [21, 'policy-filter', 'ip'],
  [22, 'max_dgram_reass_size', 'short'],
  [23, 'default_ttl', 'byte'],
  [24, 'pmtu_timeout', 'int'],
  [25, 'path-mtu-plateau-table', 'short'],
  [26, 'interface-mtu', 'short'],
  [27, 'all-subnets-local', 'byte'],
  [28, 'broadcast_address', 'ip'],
  [29, 'perform-mask-discovery', 'byte'],
  [30, 'mask-supplier', 'byte'],
  [31, 'router-discovery', 'byte'],
  [32, 'router-solicitation-address', 'ip'],
  [33, 'static-routes', 'ip'],
  [34, 'trailer-encapsulation', 'byte'],
  [35, 'arp_cache_timeout', 'int'],
  [36, 'ieee802-3-encapsulation', 'byte'],
  [37, 'tcp_ttl', 'byte'],
  [38, 'tcp_keepalive_interval', 'int'],
  [39, 'tcp_keepalive_garbage', 'byte'],
  [40, 'NIS_domain', 'str'],
  [41, 'NIS_server', 'ip'],
  [42, 'NTP_server', 'ip'],
  [43, 'vendor_specific', 'raw'],
  [44, 'NetBIOS_server', 'ip'],
  [45, 'NetBIOS_dist_server', 'ip'],
  [46, 'NetBIOS_node_type', 'byte'],
  [47, 'netbios-scope', 'raw'],
  [48, 'font-servers', 'ip'],
  [49, 'x-display-manager', 'ip'],
  [50, 'requested_addr', 'ip'],
  [51, 'lease_time', 'int'],
  [52, 'dhcp-option-overload', 'byte'],
  [53, 'message-type', 'msgtype'],
  [54, 'server_id', 'ip'],
  [55, 'param_req_list', 'bytelist'],
  [56, 'error_message', 'raw'],
  [57, 'max_dhcp_size', 'short'],
  [58, 'renewal_time', 'int'],
  [59, 'rebinding_time', 'int'],
  [60, 'vendor_class_id', 'str'],
  [61, 'client_id', 'str'],
  [62, 'nwip-domain-name', 'raw'],
  [64, 'NISplus_domain', 'raw'],
  [65, 'NISplus_server', 'ip'],
  [66, 'tftp_server_name', 'raw'],
  [67, 'boot-file-name', 'str'],
  [68, 'mobile-ip-home-agent', 'ip'],
  [69, 'SMTP_server', 'ip'],
  [70, 'POP3_server', 'ip'],
  [71, 'NNTP_server', 'ip'],
  [72, 'WWW_server', 'ip'],
  [73, 'Finger_server', 'ip'],
  [74, 'IRC_server', 'ip'],
  [75, 'StreetTalk_server', 'ip'],
  [76, 'StreetTalk_Dir_Assistance', 'ip'],
  [77, 'user_class', 'raw'],
  [78, 'slp_service_agent', 'raw'],
  [79, 'slp_service_scope', 'raw'],
  [81, 'client_FQDN', 'raw'],
  [82, 'relay_agent_information', 'raw'],
  [85, 'nds-server', 'ip'],
  [86, 'nds-tree-name', 'str'],
  [87, 'nds-context', 'str'],
  [88, 'bcms-controller-namesi', 'raw'],
  [89, 'bcms-controller-address', 'ip'],
  [91, 'client-last-transaction-time', 'int'],
  [92, 'associated-ip', 'ip'],
  [93, 'pxe_client_architecture', 'raw'],
  [94, 'pxe_client_network_interface', 'raw'],
  [97, 'pxe_client_machine_identifier', 'raw'],
  [98, 'uap-servers', 'str'],
  [100, 'pcode', 'str'],
  [101, 'tcode', 'str'],
  [112, 'netinfo-server-address', 'ip'],
  [113, 'netinfo-server-tag', 'str'],
  [114, 'default-url', 'str'],
  [116, 'auto-config', 'byte'],
  [117, 'name-service-search', 'short'],
  [118, 'subnet-selection', 'ip'],
  [121, 'classless_static_routes', 'raw'],
  [124, 'vendor_class', 'raw'],
  [125, 'vendor_specific_information', 'raw'],
  [128, 'tftp_server_ip_address', 'ip'],
  [136, 'pana-agent', 'ip'],
  [137, 'v4-lost', 'raw'],
  [138, 'capwap-ac-v4', 'ip'],
  [141, 'sip_ua_service_domains', 'raw'],
  [146, 'rdnss-selection', 'raw'],
  [150, 'tftp_server_address', 'ip'],
  [159, 'v4-portparams', 'raw'],
  [160, 'v4-captive-portal', 'str'],
  [161, 'mud-url', 'str'],
  [208, 'pxelinux_magic', 'raw'],
  [209, 'pxelinux_configuration_file', 'raw'],
  [210, 'pxelinux_path_prefix', 'raw'],
  [211, 'pxelinux_reboot_time', 'raw'],
  [212, 'option-6rd', 'raw'],
  [213, 'v4-access-domain', 'raw'],
  [255, 'end', 'raw']

];

const OPTION_BY_CODE = new Map<number, { name: string; kind: OptionKind }>();
const OPTION_BY_NAME = new Map<string, { code: number; kind: OptionKind }>();
for (const [code, name, kind] of OPTION_TABLE) {
  OPTION_BY_CODE.set(code, { name, kind });
  OPTION_BY_NAME.set(name, { code, kind });
}

/** DHCP message types by name, as Scapy's DHCPTypes. */
export const DHCP_MESSAGE_TYPES: Readonly<Record<number, string>> = {
  1: 'discover', 2: 'offer', 3: 'request', 4: 'decline', 5: 'ack', 6: 'nak', 7: 'release', 8: 'inform', 9: 'force_renew',
  10: 'lease_query', 11: 'lease_unassigned', 12: 'lease_unknown', 13: 'lease_active',
};
const MESSAGE_TYPE_BY_NAME = new Map(Object.entries(DHCP_MESSAGE_TYPES).map(([k, v]) => [v, Number(k)]));

/** One DHCP option as Scapy writes it. */
export type DHCPOption = string | number | Buffer | readonly [string | number, ...unknown[]];

function optionValueBytes(name: string, kind: OptionKind, value: unknown): Buffer {
  const fail = (wants: string): never => {
    throw usageError(`DHCP option '${name}' takes ${wants}, not ${JSON.stringify(value)}`);
  };
  switch (kind) {
    case 'ip': {
      if (typeof value !== 'string') fail("an IPv4 address like '198.51.100.1'");
      const b = Buffer.alloc(4);
      writeIPv4(value as string, b, 0);
      return b;
    }
    case 'int':
    case 'short':
    case 'byte':
    case 'msgtype': {
      let n = value;
      if (kind === 'msgtype' && typeof value === 'string') n = MESSAGE_TYPE_BY_NAME.get(value) ?? fail(`a message type (${[...MESSAGE_TYPE_BY_NAME.keys()].join(', ')}) or a number`);
      const size = kind === 'int' ? 4 : kind === 'short' ? 2 : 1;
      const max = 2 ** (8 * size) - 1;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) fail(`a number from 0 to ${max}`);
      const b = Buffer.alloc(size);
      b.writeUIntBE(n as number, 0, size);
      return b;
    }
    case 'bytelist': {
      const list = Array.isArray(value) ? value : [value];
      for (const x of list) if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255) fail('a list of option codes 0-255, like [1, 3, 6]');
      return Buffer.from(list as number[]);
    }
    default:
      if (typeof value === 'string') return Buffer.from(value, 'utf8');
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value);
      if (typeof value === 'number') return Buffer.from(String(value), 'utf8');
      return fail('bytes or text');
  }
}

/** The bytes of one option, as Scapy's DHCPOptionsField.i2m writes it. */
function optionBytes(opt: DHCPOption): Buffer {
  if (Array.isArray(opt)) {
    const [name, ...values] = opt as readonly [string | number, ...unknown[]];
    let code: number;
    let body: Buffer;
    if (typeof name === 'number') {
      code = name;
      body = Buffer.concat(values.map((v) => optionValueBytes(String(name), 'raw', v)));
    } else {
      const known = OPTION_BY_NAME.get(name);
      if (!known) throw usageError(`unknown DHCP option '${name}'; give (code, bytes) for an option Scapy has no name for`);
      code = known.code;
      body = Buffer.concat(values.map((v) => optionValueBytes(name, known.kind, v)));
    }
    if (body.length > 255) throw usageError(`DHCP option '${String(name)}' holds ${body.length} bytes; an option holds at most 255`);
    return Buffer.concat([Buffer.from([code & 0xff, body.length]), body]);
  }
  if (typeof opt === 'string') {
    const known = OPTION_BY_NAME.get(opt);
    if (known && known.kind === 'raw') return Buffer.from([known.code]);
    return Buffer.from(opt, 'utf8');
  }
  if (typeof opt === 'number') return Buffer.from([opt & 0xff, 0]);
  return Buffer.from(opt as Buffer);
}

/** Reads one option's values as Scapy's m2i does: a list for addresses and numbers, one value for the rest. */
function readOptionValues(kind: OptionKind, body: Buffer): unknown[] | undefined {
  const size = kind === 'ip' || kind === 'int' ? 4 : kind === 'short' ? 2 : kind === 'byte' || kind === 'msgtype' ? 1 : 0;
  if (kind === 'bytelist') return [[...body]];
  if (size === 0) return [Buffer.from(body)];
  if (body.length % size !== 0) return undefined;
  const out: unknown[] = [];
  for (let p = 0; p < body.length; p += size) out.push(kind === 'ip' ? formatIPv4(body, p) : body.readUIntBE(p, size));
  return out;
}

export function readDHCPOptions(buf: Buffer, off: number, end: number): DHCPOption[] {
  const opts: DHCPOption[] = [];
  let p = off;
  while (p < end) {
    const code = buf[p]!;
    if (code === 255 || code === 0) {
      opts.push(code === 255 ? 'end' : 'pad');
      p++;
      continue;
    }
    if (end - p < 2 || end - p < buf[p + 1]! + 2) {
      opts.push(Buffer.from(buf.subarray(p, end)));
      break;
    }
    const len = buf[p + 1]!;
    const body = buf.subarray(p + 2, p + 2 + len);
    const known = OPTION_BY_CODE.get(code);
    if (known) {
      const values = readOptionValues(known.kind, body);
      if (values === undefined) {
        // A value the field cannot read (a 3-byte address): Scapy keeps the rest as raw bytes.
        opts.push(Buffer.from(buf.subarray(p, end)));
        break;
      }
      opts.push([known.name, ...values]);
    } else opts.push([code, Buffer.from(body)]);
    p += 2 + len;
  }
  return opts;
}

function checkOptions(value: unknown): DHCPOption[] {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return [value];
  if (!Array.isArray(value)) throw usageError("DHCP options take a list like [['message-type', 'discover'], 'end']");
  for (const o of value) optionBytes(o as DHCPOption);
  return value as DHCPOption[];
}

export interface DHCPFields {
  options: DHCPOption[];
}

/** Typed field accessors, defined from the field table by registerLayer(). */
export interface DHCPLayer extends FieldValues<DHCPFields> {}

export class DHCPLayer extends Layer<DHCPFields> {
  static readonly layerName: string = 'DHCP';
  /** The name show() prints (Scapy's). */
  static readonly displayName: string = 'DHCP options';
  static readonly fieldSpecs: readonly FieldSpec[] = [{ name: 'options', kind: 'options', default: [] }];
  /** Options are Python tuples and names, not option calls (the text form reads them as plain values). */
  static readonly plainOptions = true;

  protected override normalize(fields: Partial<DHCPFields>): Partial<DHCPFields> {
    super.normalize(fields);
    if (fields.options !== undefined) fields.options = checkOptions(fields.options);
    return fields;
  }

  private encoded: Buffer | undefined;

  headerLength(): number {
    this.encoded = Buffer.concat((this.fields.options ?? []).map(optionBytes));
    return this.encoded.length;
  }

  encode(out: Buffer, off: number): void {
    (this.encoded ?? Buffer.concat((this.fields.options ?? []).map(optionBytes))).copy(out, off);
  }

  static decode(buf: Buffer, off: number, end: number): Decoded {
    const layer = new this();
    layer.fields.options = readDHCPOptions(buf, off, end);
    return { layer, payloadStart: end, payloadEnd: end };
  }

  /** The message type, by Scapy's name ('discover'), when the options carry one. */
  get messageType(): string | undefined {
    for (const o of this.fields.options ?? []) {
      if (Array.isArray(o) && o[0] === 'message-type') return typeof o[1] === 'number' ? DHCP_MESSAGE_TYPES[o[1]] : String(o[1]);
    }
    return undefined;
  }
}

registerLayer(BOOTPLayer);
registerLayer(DHCPLayer);

// A client sends from 68 to 67 and the server answers from 67 to 68; UDP()/BOOTP() builds 67 > 68
// as Scapy does (its last binding wins). Decoding takes either port.
bind(UDPLayer, BOOTPLayer, 'sport', 67);
bind(UDPLayer, BOOTPLayer, 'dport', 68);
bind(UDPLayer, BOOTPLayer, 'dport', 67);
bind(UDPLayer, BOOTPLayer, 'sport', 68);
