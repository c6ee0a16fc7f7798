/**
 * Delay and loss on the lab's links. tc netem on every egress of the router (or of both
 * hosts without one), so each direction gets the delay and the loss. Some kernels ship
 * without sch_netem (small VM kernels do); then loss falls back to an nftables rule that
 * drops that share of packets at random (forwarded ones in the router, arriving ones at the
 * hosts), and a delay is refused with a clear message rather than silently left out.
 */
import { spawnSync } from 'node:child_process';
import { SynackError, usageError } from '../wire/errors.js';
import { run } from './shell.js';
import type { HostPlan, LabPlan } from './topology.js';

export interface Impairment {
  delayMs?: number;
  lossPercent?: number;
}

/** '20ms', '0.5s', '20' (ms) -> milliseconds. */
export function parseDelay(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(us|ms|s)?$/.exec(text.trim());
  if (!m) throw usageError(`delay '${text}' is not a duration: write it like 20ms or 0.5s`);
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'us' ? 0.001 : 1);
  if (ms > 10_000) throw usageError(`delay ${text} is longer than 10 s: the lab is for watching TCP, not for waiting`);
  return ms;
}

/** '1%', '0.5', '1' -> percent. */
export function parseLoss(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text.trim());
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct >= 0 && pct <= 100)) throw usageError(`loss '${text}' is not a percentage from 0 to 100: write it like 1% or 0.5%`);
  return pct;
}

/** Where the impairment applies: the router's interfaces, or each host's. */
function impairedDevices(plan: LabPlan): Array<{ host: HostPlan; dev: string }> {
  const router = plan.hosts.find((h) => h.router);
  if (router) return router.ifaces.map((i) => ({ host: router, dev: i.dev }));
  return plan.hosts.map((h) => ({ host: h, dev: h.ifaces[0]!.dev }));
}

function netemArgs(imp: Impairment): string[] {
  const args: string[] = [];
  if (imp.delayMs) args.push('delay', `${imp.delayMs}ms`);
  if (imp.lossPercent) args.push('loss', `${imp.lossPercent}%`);
  return args;
}

/** Applies the impairment; returns the method used, or undefined when there was nothing to do. */
export function applyImpairment(plan: LabPlan, imp: Impairment): 'netem' | 'nftables' | undefined {
  if (!imp.delayMs && !imp.lossPercent) return undefined;
  const targets = impairedDevices(plan);
  const first = targets[0]!;
  const probe = spawnSync('ip', ['netns', 'exec', first.host.ns, 'tc', 'qdisc', 'add', 'dev', first.dev, 'root', 'netem', ...netemArgs(imp)], { encoding: 'utf8' });
  if (probe.status === 0) {
    for (const t of targets.slice(1)) run('ip', ['netns', 'exec', t.host.ns, 'tc', 'qdisc', 'add', 'dev', t.dev, 'root', 'netem', ...netemArgs(imp)]);
    return 'netem';
  }
  if (!/unknown/i.test(probe.stderr)) throw new SynackError(`tc netem in ${first.host.ns}: ${probe.stderr.trim()}`, 'system');
  if (imp.delayMs) {
    throw new SynackError('this kernel has no netem queueing discipline (sch_netem), which --delay needs; --loss still works without it (via nftables)', 'system');
  }
  // A share of 10,000 keeps two decimals of the percentage; numgen's values are 0..9999, so a
  // share of 10,000 (100%) is a plain drop (nft refuses `< 10000` as out of range).
  const share = Math.round((imp.lossPercent ?? 0) * 100);
  const rule = share >= 10_000 ? 'drop' : `numgen random mod 10000 < ${share} drop`;
  // veth hands 64 KB GSO packets on whole, so a drop would take forty segments at once and a
  // short transfer might see no drop at all: one segment per packet on every lab link, so loss
  // falls on segments as it does on a real wire.
  for (const host of plan.hosts) {
    for (const iface of host.ifaces) spawnSync('ip', ['-n', host.ns, 'link', 'set', 'dev', iface.dev, 'gso_max_segs', '1', 'gso_max_size', '1500'], { encoding: 'utf8' });
  }
  const router = plan.hosts.find((h) => h.router);
  if (router) {
    run('ip', ['netns', 'exec', router.ns, 'nft', '-f', '-'], `table inet synack_lab {\n  chain impair {\n    type filter hook forward priority 0; policy accept;\n    ${rule}\n  }\n}\n`);
  } else {
    for (const t of targets) {
      run('ip', ['netns', 'exec', t.host.ns, 'nft', '-f', '-'], `table netdev synack_lab {\n  chain impair {\n    type filter hook ingress device "${t.dev}" priority 0; policy accept;\n    ${rule}\n  }\n}\n`);
    }
  }
  return 'nftables';
}
