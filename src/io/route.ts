/**
 * Routes and interfaces, from iproute2's JSON output: which interface a destination leaves
 * by, which source address the kernel would pick, and the next hop. Answers are cached for a
 * few seconds: an sr of 10,000 probes to one host asks once.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import { SynackError, usageError } from '../wire/errors.js';

export interface Route {
  /** The destination asked about. */
  dst: string;
  /** Interface the packet leaves by ('lo' for local addresses). */
  iface: string;
  /** Source address the kernel would choose. */
  src: string;
  /** Next-hop router, or undefined when dst is on-link (or local). */
  gateway: string | undefined;
  /** Whether dst is an address of this host (the packet never leaves: capture on lo). */
  local: boolean;
}

export interface InterfaceInfo {
  name: string;
  index: number;
  /** 'loopback', 'ether', 'none' (tun)... as iproute2 says. */
  linkType: string;
  mac: string | undefined;
  mtu: number;
  up: boolean;
  addresses: string[];
}

const CACHE_MS = 5000;
const routeCache = new Map<string, { at: number; route: Route }>();

function ipJson(args: string[]): unknown {
  try {
    return JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) || '[]');
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SynackError("route lookup needs iproute2's `ip` command: install iproute2", 'system');
    }
    throw new SynackError(`ip ${args.join(' ')}: ${stderr || (err as Error).message}`, 'system');
  }
}

/** The route the kernel would use toward `dst` (IPv4 or IPv6 text). */
export function routeTo(dst: string): Route {
  const now = Date.now();
  const hit = routeCache.get(dst);
  if (hit && now - hit.at < CACHE_MS) return hit.route;
  const route = lookupRoute(dst);
  routeCache.set(dst, { at: now, route });
  return route;
}

function lookupRoute(dst: string): Route {
  // Loopback needs no question to the kernel: it always answers lo, and this keeps sr1 fast.
  if (dst.startsWith('127.') && isIPv4(dst)) return { dst, iface: 'lo', src: '127.0.0.1', gateway: undefined, local: true };
  if (dst === '::1') return { dst, iface: 'lo', src: '::1', gateway: undefined, local: true };
  const v6 = isIPv6(dst);
  if (!v6 && !isIPv4(dst)) throw usageError(`'${dst}' is not an IPv4 or IPv6 address: give dst as an address such as 127.0.0.1 or ::1`);
  let answer: unknown;
  try {
    answer = ipJson([v6 ? '-6' : '-4', 'route', 'get', dst]);
  } catch (err) {
    throw new SynackError(`no route to ${dst}: ${(err as Error).message}`, 'system');
  }
  const entry = (Array.isArray(answer) ? answer[0] : undefined) as
    | { dev?: string; prefsrc?: string; gateway?: string; type?: string; flags?: string[] }
    | undefined;
  if (!entry?.dev) throw new SynackError(`no route to ${dst}`, 'system');
  const local = entry.type === 'local' || entry.dev === 'lo';
  const src = entry.prefsrc ?? (local ? dst : v6 ? '::' : '0.0.0.0');
  return { dst, iface: entry.dev, src, gateway: entry.gateway, local };
}

/** Every interface with its addresses. */
export function listInterfaces(): InterfaceInfo[] {
  const raw = ipJson(['addr', 'show']) as Array<{
    ifindex: number;
    ifname: string;
    link_type?: string;
    address?: string;
    mtu?: number;
    flags?: string[];
    operstate?: string;
    addr_info?: Array<{ local?: string }>;
  }>;
  return raw.map((l) => ({
    name: l.ifname,
    index: l.ifindex,
    linkType: l.link_type ?? 'none',
    mac: l.address,
    mtu: l.mtu ?? 1500,
    up: (l.flags ?? []).includes('UP'),
    addresses: (l.addr_info ?? []).map((a) => a.local ?? '').filter(Boolean),
  }));
}

const ifaceCache = new Map<string, { at: number; info: InterfaceInfo }>();

/** One interface by name; an unknown name is a usage error listing the real ones. */
export function interfaceInfo(name: string): InterfaceInfo {
  const now = Date.now();
  const hit = ifaceCache.get(name);
  if (hit && now - hit.at < CACHE_MS) return hit.info;
  const all = listInterfaces();
  const info = all.find((i) => i.name === name);
  if (!info) throw usageError(`no interface named '${name}'; interfaces here: ${all.map((i) => i.name).join(', ')}`);
  ifaceCache.set(name, { at: now, info });
  return info;
}

/**
 * An interface's MTU, read from sysfs (cheap enough for every conversation, unlike `ip -j
 * link`); 1500 when it cannot be read.
 */
export function interfaceMtu(name: string): number {
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${name}/mtu`, 'utf8'));
    return Number.isInteger(mtu) && mtu >= 68 ? mtu : 1500;
  } catch {
    return 1500;
  }
}

/** The link-layer address of `addr` on `iface` from the kernel's neighbour table, if known. */
export function neighborMAC(addr: string, iface: string): string | undefined {
  const raw = ipJson(['neigh', 'show', 'to', addr, 'dev', iface]) as Array<{ lladdr?: string; state?: string[] }>;
  const usable = raw.find((n) => n.lladdr && !(n.state ?? []).includes('FAILED') && !(n.state ?? []).includes('INCOMPLETE'));
  return usable?.lladdr;
}

