/**
 * Building and removing a lab: namespaces joined by veth pairs, addresses, routes.
 *
 * Nothing here touches the host's own network: every veth pair is created from inside one
 * lab namespace with its peer placed straight into another (`ip -n A link add ... peer ...
 * netns B`), so neither end ever exists in the host's namespace; forwarding is switched on
 * in the router namespace only.
 */
import { SynackError, didYouMean, usageError } from '../wire/errors.js';
import { DEFAULT_LAB, checkHostName, checkLabName, nsName, parseNsName } from './names.js';
import { ip, isAlive, isOurProcess, listNamespaces, nsPids, sleepSync, sysctl } from './shell.js';
import { planLab, type HostPlan, type LabPlan } from './topology.js';
import { applyImpairment, type Impairment } from './impair.js';
import { knownLabs, readState, removeState, writeState, type LabState, type TargetRecord } from './state.js';

export interface LabUpOptions extends Impairment {
  /** Lab name (default 'lab'): namespaces are synack-<name>-<host>. */
  name?: string;
  /** Host names (default client, server); include 'router' for a routed lab. */
  hosts?: string[];
}

export interface HostStatus {
  name: string;
  ns: string;
  router: boolean;
  interfaces: Array<{ dev: string; addresses: string[] }>;
  gateway: string | undefined;
}

export interface LabStatus {
  name: string;
  /** 'up'; 'partial' when some planned namespaces are missing or the lab never finished. */
  state: 'up' | 'partial' | 'down';
  hosts: HostStatus[];
  impairment: LabState['impairment'];
  targets: Array<TargetRecord & { running: boolean }>;
}

export interface LabDownResult {
  namespaces: string[];
  killed: number[];
}

function labName(name: string | undefined): string {
  return checkLabName(name ?? DEFAULT_LAB);
}

/** The namespaces of a lab that exist now. */
export function labNamespaces(lab: string): string[] {
  return listNamespaces().filter((ns) => parseNsName(ns)?.lab === lab);
}

function createHost(host: HostPlan): void {
  ip(['netns', 'add', host.ns]);
  // No duplicate address detection: v6 addresses are usable at once, not after a second.
  sysctl(host.ns, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
  ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
  if (host.router) {
    // Forwarding in the router's namespace only. rp_filter off: the exercises spoof sources.
    sysctl(
      host.ns,
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    );
  }
}

function macOf(ns: string, dev: string): string {
  const info = JSON.parse(ip(['-n', ns, '-j', 'link', 'show', 'dev', dev])) as Array<{ address: string }>;
  return info[0]!.address;
}

function wire(plan: LabPlan): void {
  const byName = new Map(plan.hosts.map((h) => [h.name, h]));
  const done = new Set<string>();
  // Each link is listed on both ends; make it once, from the first end met.
  for (const host of plan.hosts) {
    for (const iface of host.ifaces) {
      const peer = byName.get(iface.peer.host)!;
      const key = [`${host.name}/${iface.dev}`, `${peer.name}/${iface.peer.dev}`].sort().join(' ');
      if (done.has(key)) continue;
      done.add(key);
      ip(['-n', host.ns, 'link', 'add', 'name', iface.dev, 'type', 'veth', 'peer', 'name', iface.peer.dev, 'netns', peer.ns]);
    }
  }
  for (const host of plan.hosts) {
    for (const iface of host.ifaces) {
      ip(['-n', host.ns, '-6', 'addr', 'add', `${iface.v6}/${iface.v6Prefix}`, 'dev', iface.dev, 'nodad']);
      ip(['-n', host.ns, 'addr', 'add', `${iface.v4}/${iface.v4Prefix}`, 'dev', iface.dev]);
      ip(['-n', host.ns, 'link', 'set', iface.dev, 'up']);
    }
  }
  // Permanent neighbour entries for the link peers: a fresh namespace's first neighbour
  // solicitation can go unanswered for a second, which would blur every timing.
  for (const host of plan.hosts) {
    for (const iface of host.ifaces) {
      const peer = byName.get(iface.peer.host)!;
      const mac = macOf(peer.ns, iface.peer.dev);
      for (const addr of [iface.peer.v4, iface.peer.v6]) {
        ip(['-n', host.ns, 'neigh', 'replace', addr, 'lladdr', mac, 'dev', iface.dev, 'nud', 'permanent']);
      }
    }
    if (host.gateway) {
      ip(['-n', host.ns, 'route', 'add', 'default', 'via', host.gateway.v4]);
      ip(['-n', host.ns, '-6', 'route', 'add', 'default', 'via', host.gateway.v6]);
    }
  }
}

/** Builds the lab. Throws (after removing what it made) when any step fails. */
export function labUp(options: LabUpOptions = {}): LabStatus {
  const lab = labName(options.name);
  const plan = planLab(lab, options.hosts ?? ['client', 'server']);
  const existing = labNamespaces(lab);
  if (existing.length > 0) {
    throw usageError(`lab '${lab}' is already up (${existing.join(', ')}): run \`synack lab down${lab === DEFAULT_LAB ? '' : ` --lab ${lab}`}\` first, or pick another --lab`);
  }
  const imp: Impairment = { delayMs: options.delayMs, lossPercent: options.lossPercent };
  // The plan goes to disk first: a `lab up` killed half-way still names all it may have made.
  const state: LabState = {
    name: lab,
    status: 'creating',
    pid: process.pid,
    createdAt: new Date().toISOString(),
    plan,
    impairment: undefined,
    targets: [],
  };
  writeState(state);
  try {
    for (const host of plan.hosts) createHost(host);
    wire(plan);
    const method = applyImpairment(plan, imp);
    state.impairment = method ? { ...imp, method } : undefined;
    state.status = 'up';
    writeState(state);
  } catch (err) {
    labDown({ name: lab });
    throw err;
  }
  return labStatus({ name: lab });
}

/** Kills every process inside the namespaces: TERM, then KILL for what is still there after a second. */
function killInside(namespaces: string[], extra: number[]): number[] {
  // `extra` comes from the state file: only pids still the processes we started (checked by the caller).
  const pids = new Set<number>(extra.filter(isAlive));
  for (const ns of namespaces) for (const pid of nsPids(ns)) if (pid !== process.pid) pids.add(pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 1000;
  while ([...pids].some(isAlive) && Date.now() < deadline) sleepSync(20);
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return [...pids];
}

/**
 * Removes a lab: its target processes, every process still inside its namespaces, the
 * namespaces (their veths and firewall tables go with them), and its state file. Finds what
 * a crash left by the state file's plan and by the namespace prefix. Idempotent.
 * `all`: every lab on this machine.
 */
export function labDown(options: { name?: string; all?: boolean } = {}): LabDownResult {
  const labs = options.all
    ? [...new Set([...knownLabs(), ...listNamespaces().map((ns) => parseNsName(ns)?.lab).filter((l): l is string => !!l)])]
    : [labName(options.name)];
  const result: LabDownResult = { namespaces: [], killed: [] };
  const present = new Set(listNamespaces());
  for (const lab of labs) {
    const state = readState(lab);
    const planned = state?.plan.hosts.map((h) => h.ns) ?? [];
    const namespaces = [...new Set([...planned, ...[...present].filter((ns) => parseNsName(ns)?.lab === lab)])].filter((ns) => present.has(ns));
    result.killed.push(...killInside(namespaces, state?.targets.filter((t) => isOurProcess(t.pid, t.startTime)).map((t) => t.pid) ?? []));
    for (const ns of namespaces) {
      try {
        ip(['netns', 'del', ns]);
        result.namespaces.push(ns);
      } catch (err) {
        if (listNamespaces().includes(ns)) throw err;
      }
    }
    removeState(lab);
  }
  return result;
}

function hostStatus(ns: string, host: string, router: boolean): HostStatus {
  const links = JSON.parse(ip(['-n', ns, '-j', 'addr', 'show'])) as Array<{
    ifname: string;
    addr_info?: Array<{ local: string; prefixlen: number; scope?: string }>;
  }>;
  const interfaces = links
    .filter((l) => l.ifname !== 'lo')
    .map((l) => ({
      dev: l.ifname,
      addresses: (l.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`),
    }));
  const routes = JSON.parse(ip(['-n', ns, '-j', 'route', 'show', 'default'])) as Array<{ gateway?: string }>;
  return { name: host, ns, router, interfaces, gateway: routes[0]?.gateway };
}

/** What a lab looks like now, read from its namespaces (and its state file, for targets). */
export function labStatus(options: { name?: string } = {}): LabStatus {
  const lab = labName(options.name);
  const state = readState(lab);
  const namespaces = labNamespaces(lab);
  const order = state?.plan.hosts.map((h) => h.ns) ?? [];
  namespaces.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  const hosts = namespaces.map((ns) => {
    const host = parseNsName(ns)!.host;
    return hostStatus(ns, host, state?.plan.hosts.find((h) => h.ns === ns)?.router ?? host === 'router');
  });
  const complete = state?.status === 'up' && order.every((ns) => namespaces.includes(ns));
  return {
    name: lab,
    state: hosts.length === 0 ? 'down' : complete ? 'up' : 'partial',
    hosts,
    impairment: state?.impairment,
    targets: (state?.targets ?? []).map((t) => ({ ...t, running: isOurProcess(t.pid, t.startTime) })),
  };
}

/** Every lab that has namespaces or a state file. */
export function listLabs(): string[] {
  return [...new Set([...knownLabs(), ...listNamespaces().map((ns) => parseNsName(ns)?.lab).filter((l): l is string => !!l)])].sort();
}

/** The namespace of a host of a running lab; a wrong name is a usage error naming the hosts. */
export function hostNamespace(host: string, lab?: string): string {
  checkHostName(host);
  const name = labName(lab);
  const namespaces = labNamespaces(name);
  const ns = nsName(name, host);
  if (namespaces.includes(ns)) return ns;
  if (namespaces.length === 0) throw usageError(`lab '${name}' is not up: start it with \`synack lab up\``);
  const hosts = namespaces.map((n) => parseNsName(n)!.host);
  throw usageError(`lab '${name}' has no host '${host}'${didYouMean(host, hosts)}; its hosts: ${hosts.join(', ')}`);
}

/** A host's first address of the family (from the plan when known, else from the namespace). */
export function hostAddress(host: string, family: 4 | 6 = 4, lab?: string): string {
  const name = labName(lab);
  const planned = readState(name)?.plan.hosts.find((h) => h.name === host)?.ifaces[0];
  if (planned) return family === 4 ? planned.v4 : planned.v6;
  const ns = hostNamespace(host, name);
  const status = hostStatus(ns, host, false);
  for (const i of status.interfaces) {
    for (const a of i.addresses) {
      const addr = a.split('/')[0]!;
      if ((family === 6) === addr.includes(':')) return addr;
    }
  }
  throw new SynackError(`host '${host}' of lab '${name}' has no IPv${family} address`, 'system');
}
