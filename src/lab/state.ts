/**
 * The lab's state file, /run/synack/lab-<name>.json: what was planned (written BEFORE the
 * first namespace exists, so a `lab up` killed half-way still names everything it may have
 * made), the impairment, and the target processes started with `lab serve`. The namespaces
 * themselves stay the ground truth: status and down also look at `ip netns list`.
 */
import { readFileSync, writeFileSync, renameSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from './names.js';
import type { LabPlan } from './topology.js';

export interface TargetRecord {
  pid: number;
  kind: string;
  host: string;
  port: number;
  log: string;
  /** The process's start time when it was started (see isOurProcess): proof it is still ours. */
  startTime?: string;
}

export interface LabState {
  name: string;
  status: 'creating' | 'up';
  /** The process that ran `lab up`. */
  pid: number;
  createdAt: string;
  plan: LabPlan;
  impairment: { delayMs?: number; lossPercent?: number; method?: 'netem' | 'nftables' } | undefined;
  targets: TargetRecord[];
}

export function statePath(lab: string): string {
  return join(stateDir(), `lab-${lab}.json`);
}

export function readState(lab: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(lab), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/** Writes atomically (a crash never leaves half a file). */
export function writeState(state: LabState): void {
  const path = statePath(state.name);
  // Made afresh and exclusively (never through a planted link; one name per process, so two
  // writers never meet), then renamed over the old one.
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
  renameSync(tmp, path);
}

export function updateState(lab: string, change: (s: LabState) => void): void {
  const state = readState(lab);
  if (!state) return;
  change(state);
  writeState(state);
}

/** Removes the state file and the lab's target logs. */
export function removeState(lab: string): void {
  try {
    for (const f of readdirSync(stateDir())) if (f.startsWith(`lab-${lab}-`) && f.endsWith('.log')) rmSync(join(stateDir(), f), { force: true });
  } catch {
    // No state directory: nothing to remove.
  }
  rmSync(statePath(lab), { force: true });
  try {
    for (const f of readdirSync(stateDir())) if (f.startsWith(`lab-${lab}.json.`) && f.endsWith('.tmp')) rmSync(join(stateDir(), f), { force: true });
  } catch {
    // No state directory: nothing to remove.
  }
}

/** Labs that have a state file. */
export function knownLabs(): string[] {
  try {
    return readdirSync(stateDir())
      .map((f) => /^lab-([a-z][a-z0-9]*)\.json$/.exec(f)?.[1])
      .filter((x): x is string => x !== undefined);
  } catch {
    return [];
  }
}
