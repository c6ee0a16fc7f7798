/**
 * The L3 sender: a raw socket that takes whole IP packets, headers included.
 *
 * - IPv4: protocol IPPROTO_RAW with IP_HDRINCL, so every header field is ours (the kernel
 *   still fills a zero id and total length, as raw(7) says; we always write both).
 * - IPv6: Linux (since 4.5) treats an AF_INET6 socket of protocol IPPROTO_RAW as header-
 *   including too, so the IPv6 header (hop limit, flow label, even a lying payload length)
 *   is ours as well; measured here on 6.x. No per-option fallback is needed.
 * Every packet carries SO_MARK = SYNACK_MARK so the kernel-RST guard can tell ours apart.
 *
 * raw-socket's send() queues into an array that is shifted once per event-loop turn; we call
 * the native handle's synchronous sendto instead and pace ourselves (see sr/transmit.ts).
 */
import { SynackError } from '../wire/errors.js';
import { rawSocketAddon, type RawSocket } from './addons.js';
import { IPPROTO_IP, IPPROTO_RAW, IP_HDRINCL, SOL_SOCKET, SO_MARK, SYNACK_MARK } from './constants.js';
import { isPermissionError, privilegeError, requireRawPrivilege } from './privilege.js';
import { onCleanup } from './cleanup.js';

const SO_BINDTODEVICE = 25;

/** Errors after which the same packet can be tried again a moment later (a full queue). */
const BACKOFF = /Resource temporarily unavailable|No buffer space available|EAGAIN|ENOBUFS/;

/** Whether a send failed only because the kernel's queue was full: the same packet may go a moment later. */
export function isBackoff(err: unknown): boolean {
  return BACKOFF.test((err as Error)?.message ?? '');
}

export class RawSender {
  readonly family: 4 | 6;
  private socket: RawSocket | undefined;
  /** Set by raw-socket's 'error' event, which may come with no argument at all. */
  private failure: Error | undefined;
  private unregister: (() => void) | undefined;

  constructor(family: 4 | 6, iface?: string) {
    this.family = family;
    requireRawPrivilege();
    const raw = rawSocketAddon();
    let socket: RawSocket;
    try {
      socket = raw.createSocket({
        protocol: IPPROTO_RAW,
        addressFamily: family === 6 ? raw.AddressFamily.IPv6 : raw.AddressFamily.IPv4,
      });
    } catch (err) {
      if (isPermissionError(err)) throw privilegeError('opening a raw socket');
      throw new SynackError(`cannot open a raw IPv${family} socket: ${(err as Error).message}`, 'system');
    }
    socket.on('error', (err?: Error) => {
      // raw-socket emits 'error' with no argument on some poll failures, then closes itself.
      this.failure = err ?? new Error('the raw socket reported an error without details and closed');
      this.socket = undefined;
    });
    // We never read from an IPPROTO_RAW socket; a paused socket does not hold the event loop.
    socket.pauseRecv();
    if (family === 4) socket.setOption(IPPROTO_IP, IP_HDRINCL, 1);
    socket.setOption(SOL_SOCKET, SO_MARK, SYNACK_MARK);
    if (iface) {
      const name = Buffer.from(iface + '\0', 'latin1');
      try {
        socket.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
      } catch (err) {
        socket.close();
        throw new SynackError(`cannot bind the raw socket to interface '${iface}': ${(err as Error).message}`, 'system');
      }
    }
    this.socket = socket;
    this.unregister = onCleanup(() => this.close());
  }

  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  /**
   * Sends buf[0, length) to `dst` now. Returns false when the kernel's queue is full (try the
   * same packet again after yielding); throws for anything else.
   */
  trySend(buf: Buffer, dst: string, length = buf.length): boolean {
    const socket = this.socket;
    if (!socket) {
      throw new SynackError(`raw IPv${this.family} socket is closed${this.failure ? `: ${this.failure.message}` : ''}`, 'system');
    }
    try {
      const wrap = socket.wrap;
      if (wrap) wrap.send(buf, 0, length, dst, noop);
      else socket.send(buf, 0, length, dst, noopCallback);
      return true;
    } catch (err) {
      const message = (err as Error).message;
      if (isBackoff(err)) return false;
      if (isPermissionError(err)) {
        throw new SynackError(`sending to ${dst} was refused (${message}): a firewall rule may drop it, or privileges are missing`, 'system');
      }
      throw new SynackError(`sending to ${dst} failed: ${message}`, 'system');
    }
  }

  close(): void {
    this.unregister?.();
    this.unregister = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      try {
        socket.close();
      } catch {
        // Already closed by raw-socket after an error.
      }
    }
  }
}

function noop(): void {}
function noopCallback(): void {}
