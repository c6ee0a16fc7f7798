/**
 * `lab serve`: a target server started inside a lab host, in the background. Its output goes
 * to a log file next to the lab's state file; its pid is recorded there, and `lab down` kills
 * it (and anything else still running inside the lab's namespaces).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SynackError, didYouMean, usageError } from '../wire/errors.js';
import { DEFAULT_LAB, stateDir } from './names.js';
import { hostNamespace } from './network.js';
import { nodeArgv } from './runner.js';
import { isAlive, isOurProcess, processStartTime, sleepSync } from './shell.js';
import { readState, updateState, type TargetRecord } from './state.js';
import { PYTHON_TARGETS } from './targets/python.js';

export const TARGET_KINDS = ['get', 'get-slow', 'echo', 'never-close', 'bound', 'backlog1', 'http'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const TARGET_DESCRIPTIONS: Record<TargetKind, string> = {
  get: "answers 'get' with '200 ok', then closes at once",
  'get-slow': "answers 'get' with '200 ok', closes 0.1 s later",
  echo: 'sends back what it receives',
  'never-close': 'never closes: a client that closes leaves it in CLOSE_WAIT',
  bound: 'bound but not listening (SYN gets RST)',
  backlog1: 'listens with backlog 1 and never accepts',
  http: 'plain HTTP; GET /bytes/N sends N bytes',
};

export interface ServeOptions {
  lab?: string;
  host: string;
  port: number;
}

export interface Target extends TargetRecord {
  /** Lines the target has logged so far. */
  lines(): string[];
  /** Stops this target. */
  stop(): void;
}

const fromSources = import.meta.url.endsWith('.ts');

function python(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** The command line of a target; `address` to listen on one address only (default: all). */
export function argvFor(kind: TargetKind, port: number, address?: string): string[] {
  const where = address === undefined ? [] : [address];
  const py = PYTHON_TARGETS[kind];
  if (py) return [python(), '-u', '-c', py, String(port), ...where];
  const script = fileURLToPath(new URL(`./targets/target${fromSources ? '.ts' : '.js'}`, import.meta.url));
  return nodeArgv(script, [kind, String(port), ...where]);
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

function asTarget(record: TargetRecord): Target {
  return {
    ...record,
    lines: () => readLines(record.log),
    stop: () => {
      if (isOurProcess(record.pid, record.startTime)) process.kill(record.pid, 'SIGTERM');
    },
  };
}

/** Starts a target inside a host and resolves once it is listening (or bound). */
export function labServe(kind: string, options: ServeOptions): Target {
  if (!(TARGET_KINDS as readonly string[]).includes(kind)) {
    throw usageError(`no target kind '${kind}'${didYouMean(kind, TARGET_KINDS)}; kinds: ${TARGET_KINDS.join(', ')}`);
  }
  const { port } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`port ${port} is out of range: ports are 1-65535`);
  const lab = options.lab ?? DEFAULT_LAB;
  const ns = hostNamespace(options.host, lab);
  const log = join(stateDir(), `lab-${lab}-${options.host}-${kind}-${port}.log`);
  // A fresh log, never through a link: an old one is removed, the new one made exclusively, 0600.
  rmSync(log, { force: true });
  const fd = openSync(log, 'wx', 0o600);
  let pid: number | undefined;
  try {
    // Detached with its output in a file: the target outlives a `synack lab serve` that returns.
    const child = spawn('ip', ['netns', 'exec', ns, ...argvFor(kind as TargetKind, port)], { detached: true, stdio: ['ignore', fd, fd] });
    pid = child.pid;
    child.unref();
  } finally {
    closeSync(fd);
  }
  if (pid === undefined) throw new SynackError(`could not start the ${kind} target`, 'system');
  const deadline = Date.now() + 10_000;
  while (!readLines(log).some((l) => l.startsWith('ready '))) {
    if (!isAlive(pid) || Date.now() > deadline) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
      const said = readLines(log).slice(-3).join(' / ');
      throw new SynackError(`the ${kind} target on ${options.host}:${port} did not start${said ? `: ${said}` : ''}`, 'system');
    }
    sleepSync(20);
  }
  const record: TargetRecord = { pid, kind, host: options.host, port, log, startTime: processStartTime(pid) };
  updateState(lab, (s) => s.targets.push(record));
  return asTarget(record);
}

/** The targets recorded for a lab. */
export function labTargets(lab = DEFAULT_LAB): Target[] {
  return (readState(lab)?.targets ?? []).map(asTarget);
}
