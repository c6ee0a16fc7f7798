/**
 * The addressing plan, computed before anything is made.
 *
 * Two hosts and no router: one veth pair, 198.51.100.1-2/24 and 2001:db8::1-2/64.
 * With a router: one veth pair per host to the router, each its own subnet: host i gets
 * 198.51.100.(64i)/26 (router .64i+1, host .64i+2) and 2001:db8:0:(i+1)::/64 (router ::1,
 * host ::2), with default routes via the router. So a client and a server sit on
 * 198.51.100.0/26 and 198.51.100.64/26, and everything between them crosses the router.
 */
import { usageError } from '../wire/errors.js';
import { ROUTER, checkHostName, nsName } from './names.js';

export interface IfacePlan {
  dev: string;
  v4: string;
  v4Prefix: number;
  v6: string;
  v6Prefix: number;
  /** The other end of the veth. */
  peer: { host: string; dev: string; v4: string; v6: string };
}

export interface HostPlan {
  name: string;
  ns: string;
  router: boolean;
  ifaces: IfacePlan[];
  /** Default gateways (hosts behind a router). */
  gateway?: { v4: string; v6: string };
}

export interface LabPlan {
  lab: string;
  hosts: HostPlan[];
}

const MAX_ROUTED_HOSTS = 4;

export function planLab(lab: string, hostNames: string[]): LabPlan {
  const names = hostNames.map((h) => checkHostName(h.trim()));
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw usageError(`host '${n}' is named twice in --hosts`);
    seen.add(n);
  }
  const ends = names.filter((n) => n !== ROUTER);
  const routed = seen.has(ROUTER);
  if (!routed) {
    if (ends.length !== 2) {
      throw usageError(`without a router the lab joins exactly two hosts, got ${ends.length}: add 'router' (e.g. --hosts client,server,attacker,router)`);
    }
    const [a, b] = ends as [string, string];
    const addr = (i: number) => ({ v4: `198.51.100.${i + 1}`, v6: `2001:db8::${i + 1}` });
    const host = (name: string, i: number, peer: string): HostPlan => ({
      name,
      ns: nsName(lab, name),
      router: false,
      ifaces: [{ dev: 'eth0', ...addr(i), v4Prefix: 24, v6Prefix: 64, peer: { host: peer, dev: 'eth0', ...addr(1 - i) } }],
    });
    return { lab, hosts: [host(a, 0, b), host(b, 1, a)] };
  }
  if (ends.length < 1 || ends.length > MAX_ROUTED_HOSTS) {
    throw usageError(`a routed lab has 1-${MAX_ROUTED_HOSTS} hosts besides the router, got ${ends.length}`);
  }
  const router: HostPlan = { name: ROUTER, ns: nsName(lab, ROUTER), router: true, ifaces: [] };
  const hosts: HostPlan[] = ends.map((name, i) => {
    const base = 64 * i;
    const r = { v4: `198.51.100.${base + 1}`, v6: `2001:db8:0:${i + 1}::1` };
    const h = { v4: `198.51.100.${base + 2}`, v6: `2001:db8:0:${i + 1}::2` };
    const routerDev = `eth-${name}`;
    router.ifaces.push({ dev: routerDev, ...r, v4Prefix: 26, v6Prefix: 64, peer: { host: name, dev: 'eth0', ...h } });
    return {
      name,
      ns: nsName(lab, name),
      router: false,
      ifaces: [{ dev: 'eth0', ...h, v4Prefix: 26, v6Prefix: 64, peer: { host: ROUTER, dev: routerDev, ...r } }],
      gateway: r,
    };
  });
  // Hosts first, in the order given, then the router.
  return { lab, hosts: [...hosts, router] };
}
