/**
 * Capture on cap (libpcap) with a BPF filter.
 *
 * Hazards handled here, measured with cap 0.2.1:
 * - every packet is copied into the one Buffer given to open(), and the handler runs
 *   synchronously: the handler must decode or copy before returning;
 * - that Buffer must stay referenced for the life of the capture (if it is collected the
 *   process dies of heap corruption): it is a field of this object, which the caller holds;
 * - no timestamps: packets are stamped with nowMicros() as their event runs;
 * - closing from inside the packet handler would free libpcap's state under pcap_dispatch:
 *   a close requested there is deferred to after the dispatch returns;
 * - a Cap object must never be garbage-collected: its destructor (Pcap::~Pcap, run from a
 *   V8 weak callback) crashes the process in AsyncWrap::EmitDestroy (seen under gdb during a
 *   vitest run). Reopening a closed Cap is no way out either (libuv then spins on a stale
 *   fd). So every handle is kept in `retired` for the life of the process (a few hundred
 *   bytes each; shared captures keep their number small), and the 64 KiB packet buffers of
 *   closed captures are reused by the next capture rather than freed.
 */
import { SynackError, usageError } from '../wire/errors.js';
import type { LinkType } from '../packet/dissect.js';
import { capAddon, type CapHandle } from './addons.js';
import { onCleanup } from './cleanup.js';
import { nowMicros } from './clock.js';
import { networkInterfaces } from 'node:os';
import { withoutStderr } from './quiet-stderr.js';
import { isPermissionError, privilegeError, requireRawPrivilege } from './privilege.js';
import { compileFilter } from '../pcap/filter/index.js';

/** Called for each packet: bytes are buf[0, length), valid only during the call. */
export type PacketHandler = (buf: Buffer, length: number, timeMicros: number, truncated: boolean) => void;

export interface CaptureOptions {
  /** BPF filter in pcap-filter(7) syntax; '' captures everything. */
  filter?: string;
  /** Kernel ring size in bytes. Slots are 64 KiB each: 32 MiB holds a burst of ~500 packets. */
  bufferSize?: number;
}

export const DEFAULT_CAPTURE_BUFFER = 32 * 1024 * 1024;

/**
 * cap's link-type names to dissect()'s. cap 0.2.1 names DLT_LINUX_SLL 'LINKTYPE_LINUX_SLL'
 * (the `any` pseudo-interface: libpcap gives SLL v1 unless asked for SLL2, which cap cannot
 * ask) and anything it does not know 'Unknown linktype N' (see linkFromCap).
 */
const LINKS: Record<string, LinkType> = {
  ETHERNET: 'ether',
  LINKTYPE_LINUX_SLL: 'sll',
  LINUX_SLL: 'sll',
  LINUX_SLL2: 'sll2',
  RAW: 'ip',
  IPV4: 'ipv4',
  IPV6: 'ipv6',
  NULL: 'null',
  LOOP: 'loop',
};

/** Every Cap handle ever opened: never collected, see above. */
const retired = new Set<CapHandle>();
/** Packet buffers of closed captures, for the next capture to reuse. */
const spareBuffers: Buffer[] = [];

export class Capture {
  readonly iface: string;
  readonly filter: string;
  /** How the captured bytes start, for dissect(). */
  readonly link: LinkType;
  /** The Buffer cap copies each packet into; referenced here for as long as cap may write it. */
  private readonly buffer: Buffer;
  private handle: CapHandle | undefined;
  private dispatching = false;
  private closeRequested = false;
  private unregister: (() => void) | undefined;

  constructor(iface: string, handler: PacketHandler, options: CaptureOptions = {}) {
    requireRawPrivilege('capturing packets');
    this.iface = iface;
    this.filter = options.filter ?? '';
    this.buffer = spareBuffers.pop() ?? Buffer.alloc(65536);
    const Cap = capAddon().Cap;
    const handle = new Cap();
    retired.add(handle);
    let linkName: string;
    try {
      const open = (): string => handle.open(iface, this.filter, options.bufferSize ?? DEFAULT_CAPTURE_BUFFER, this.buffer);
      linkName = lacksIPv4(iface) ? withoutStderr(open) : open();
    } catch (err) {
      spareBuffers.push(this.buffer);
      throw openError(iface, this.filter, err);
    }
    this.link = linkFromCap(linkName);
    const buffer = this.buffer;
    handle.on('packet', (nbytes: number, truncated: boolean) => {
      // Packets still in the ring after a close was asked for are dropped, not delivered.
      if (this.closeRequested) return;
      const time = nowMicros();
      this.dispatching = true;
      try {
        handler(buffer, nbytes, time, truncated);
      } finally {
        this.dispatching = false;
      }
      if (this.closeRequested) setImmediate(() => this.closeNow());
    });
    this.handle = handle;
    this.unregister = onCleanup(() => this.closeNow());
  }

  get isOpen(): boolean {
    return this.handle !== undefined && !this.closeRequested;
  }

  /** Injects one whole frame (with its link header) on this interface, synchronously. */
  inject(frame: Buffer, length = frame.length): void {
    if (!this.handle) throw new SynackError(`capture on ${this.iface} is closed`, 'system');
    try {
      this.handle.send(frame, length);
    } catch (err) {
      throw new SynackError(`injecting a frame on ${this.iface} failed: ${(err as Error).message}`, 'system');
    }
  }

  /** Stops capturing. Safe to call from inside the packet handler and more than once. */
  close(): void {
    if (this.dispatching) {
      this.closeRequested = true;
      return;
    }
    this.closeNow();
  }

  private closeNow(): void {
    this.closeRequested = true;
    this.unregister?.();
    this.unregister = undefined;
    const handle = this.handle;
    if (!handle) return;
    this.handle = undefined;
    try {
      handle.close();
    } finally {
      handle.removeAllListeners('packet');
      spareBuffers.push(this.buffer);
    }
  }
}

/** True when libpcap's pcap_lookupnet() will fail (and cap print its warning): no IPv4 address. */
function lacksIPv4(iface: string): boolean {
  if (iface === 'any') return false;
  const addresses = networkInterfaces()[iface];
  return !addresses?.some((a) => a.family === 'IPv4');
}

/** dissect()'s name for what cap's open() returned. */
function linkFromCap(name: string): LinkType {
  const known = LINKS[name];
  if (known) return known;
  // 'Unknown linktype 276': the DLT number, which is the LINKTYPE number for these.
  const number = /^Unknown linktype (\d+)$/.exec(name);
  if (number) {
    const dlt = Number(number[1]);
    if (dlt === 276) return 'sll2';
    if (dlt === 113) return 'sll';
    if (dlt === 12 || dlt === 14) return 'ip';
    if (dlt === 108) return 'loop';
  }
  return 'ether';
}

function openError(iface: string, filter: string, err: unknown): SynackError {
  const message = (err as Error).message ?? String(err);
  if (isPermissionError(err)) return privilegeError(`capturing on ${iface}`);
  if (/No such device|doesn't exist|no such device/i.test(message)) {
    let names = '';
    try {
      names = capAddon()
        .Cap.deviceList()
        .map((d) => d.name)
        .join(', ');
    } catch {
      // The list is a hint only.
    }
    return usageError(`no interface named '${iface}' to capture on${names ? `; interfaces: ${names}` : ''}`);
  }
  if (/filter|syntax|parse/i.test(message)) return diagnoseFilter(filter) ?? usageError(`bad capture filter '${filter}': ${message}`);
  return new SynackError(`cannot capture on ${iface}: ${message}`, 'system');
}

/**
 * libpcap says only "syntax error"; synack's own compiler (the one files are read with) names
 * the word and the column and suggests a fix. Its error, when it has one, is the better line.
 */
function diagnoseFilter(filter: string): SynackError | undefined {
  try {
    compileFilter(filter);
  } catch (err) {
    if (err instanceof SynackError) return err;
  }
  return undefined;
}
