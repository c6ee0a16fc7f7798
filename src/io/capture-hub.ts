/**
 * Shared captures, one per interface, for sr/sr1. Opening a capture costs ~8 ms and closing
 * one ~23 ms (the kernel waits out an RCU grace period), which would dwarf a 50 µs loopback
 * round trip. So a capture on an interface is opened once, shared by every sr in flight, and
 * closed a short while after the last one is done (or at once on SIGINT/SIGTERM/exit).
 *
 * The filter is broad ('ip or ip6'); each subscriber matches what it is waiting for itself.
 */
import { Capture, DEFAULT_CAPTURE_BUFFER } from './capture.js';
import type { LinkType } from '../packet/dissect.js';

/** A subscriber: sees every IP packet on the interface, bytes valid only during the call. */
export type Tap = (buf: Buffer, length: number, timeMicros: number, link: LinkType) => void;

export interface HubLease {
  readonly capture: Capture;
  /** Injects a whole frame on the interface (the L2 fast path). */
  inject(frame: Buffer, length?: number): void;
  /** Stops delivery to this lease's tap and lets the capture close when nobody else uses it. */
  release(): void;
}

/** How long an unused shared capture stays open, in ms, waiting for the next sr. */
export const hubSettings = { lingerMs: 200 };

interface Hub {
  capture: Capture;
  bufferSize: number;
  taps: Set<Tap>;
  lingerTimer: NodeJS.Timeout | undefined;
}

const hubs = new Map<string, Hub>();

const HUB_FILTER = 'ip or ip6';

/**
 * A lease on the shared capture of `iface`, delivering every IP packet to `tap`. The capture
 * is running when this returns, so packets sent afterwards are never missed.
 */
export function leaseCapture(iface: string, tap: Tap, bufferSize = DEFAULT_CAPTURE_BUFFER): HubLease {
  let hub = hubs.get(iface);
  if (hub && (!hub.capture.isOpen || (hub.bufferSize < bufferSize && hub.taps.size === 0))) {
    closeHub(iface, hub);
    hub = undefined;
  }
  if (!hub) hub = openHub(iface, bufferSize);
  if (hub.lingerTimer) {
    clearTimeout(hub.lingerTimer);
    hub.lingerTimer = undefined;
  }
  const owner = hub;
  owner.taps.add(tap);
  let released = false;
  return {
    capture: owner.capture,
    inject: (frame, length) => owner.capture.inject(frame, length),
    release: () => {
      if (released) return;
      released = true;
      owner.taps.delete(tap);
      if (owner.taps.size === 0 && hubs.get(iface) === owner) scheduleClose(iface, owner);
    },
  };
}

function openHub(iface: string, bufferSize: number): Hub {
  const taps = new Set<Tap>();
  // Filled in below; the handler only runs once packets arrive, after `hub` exists.
  let link: LinkType = 'ether';
  const capture = new Capture(
    iface,
    (buf, length, time) => {
      for (const tap of taps) tap(buf, length, time, link);
    },
    { filter: HUB_FILTER, bufferSize },
  );
  link = capture.link;
  const hub: Hub = { capture, bufferSize, taps, lingerTimer: undefined };
  hubs.set(iface, hub);
  return hub;
}

function scheduleClose(iface: string, hub: Hub): void {
  if (hubs.get(iface) !== hub) return;
  hub.lingerTimer = setTimeout(() => closeHub(iface, hub), hubSettings.lingerMs);
  // The capture's own poll handle keeps the process alive until this fires; the timer
  // itself must not add to that.
  hub.lingerTimer.unref();
}

function closeHub(iface: string, hub: Hub): void {
  if (hub.lingerTimer) clearTimeout(hub.lingerTimer);
  hub.lingerTimer = undefined;
  if (hubs.get(iface) === hub) hubs.delete(iface);
  hub.capture.close();
}

/** Closes every shared capture now (tests, and programs that want to exit at once). */
export function closeSharedCaptures(): void {
  for (const [iface, hub] of [...hubs]) closeHub(iface, hub);
}
