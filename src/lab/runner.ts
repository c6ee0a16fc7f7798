/**
 * The runner: a synack script run INSIDE a lab host. Raw sockets, captures and the kernel-RST
 * guard all work in the network namespace of the process that opens them, so the part of an
 * exercise that sends and sniffs runs in a child, `ip netns exec <ns> node <script>`, while
 * the caller stays outside. TypeScript scripts run through tsx; the bundled exercise scripts
 * (src/lab/exercises/, dist/lab/exercises/) can be named without a path.
 *
 * A script reports by printing `RESULT <json>` as its last such line; everything else it prints
 * is for the learner. The child also gets SYNACK_LAB, SYNACK_LAB_HOST, and every host's
 * addresses as SYNACK_LAB_<HOST>_V4 / _V6.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { extname, isAbsolute, resolve } from 'node:path';
import { SynackError, didYouMean, usageError } from '../wire/errors.js';
import { labSpawn } from './exec.js';
import { labStatus } from './network.js';

export interface RunOptions {
  lab?: string;
  /** Kill the script after this many ms (default 30 s). */
  timeout?: number;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Called with each line the script prints (stdout), as it comes. */
  onLine?: (line: string) => void;
  /** Pass the script's stderr through to ours (default: collect it). */
  inheritStderr?: boolean;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed `RESULT {...}` line, if the script printed one. */
  result: unknown;
}

const here = fileURLToPath(new URL('.', import.meta.url));
/** Whether this module runs from TypeScript sources (tests, tsx) or from dist. */
const fromSources = import.meta.url.endsWith('.ts');

/** The bundled exercise scripts, by name. */
export function exerciseScripts(): string[] {
  const dir = resolve(here, 'exercises');
  const ext = fromSources ? '.ts' : '.js';
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
      .map((f) => f.slice(0, -ext.length))
      .filter((n) => !n.startsWith('_'));
  } catch {
    return [];
  }
}

/** A bundled script name or a path -> an absolute path. */
export function resolveScript(script: string): string {
  if (!script.includes('/') && extname(script) === '') {
    const names = exerciseScripts();
    if (!names.includes(script)) throw usageError(`no exercise script '${script}'${didYouMean(script, names)}; bundled: ${names.join(', ')} (or give a path to your own .ts/.js file)`);
    return resolve(here, 'exercises', script + (fromSources ? '.ts' : '.js'));
  }
  const path = isAbsolute(script) ? script : resolve(process.cwd(), script);
  if (!existsSync(path)) throw usageError(`script '${script}' does not exist`);
  return path;
}

/** The node command line that runs a script: TypeScript through tsx's loader. */
export function nodeArgv(scriptPath: string, args: string[] = []): string[] {
  const argv = [process.execPath];
  // tsx's ESM loader, found from here (not from the cwd, which may be anywhere).
  if (/\.[cm]?ts$/.test(scriptPath)) argv.push('--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href);
  return [...argv, scriptPath, ...args];
}

/** The environment a script gets: the lab's name, its own host, and every host's addresses. */
export function labEnv(host: string, lab?: string): Record<string, string> {
  const status = labStatus({ name: lab });
  const env: Record<string, string> = { SYNACK_LAB: status.name, SYNACK_LAB_HOST: host };
  for (const h of status.hosts) {
    const addrs = h.interfaces.flatMap((i) => i.addresses.map((a) => a.split('/')[0]!));
    const v4 = addrs.find((a) => !a.includes(':'));
    const v6 = addrs.find((a) => a.includes(':'));
    if (v4) env[`SYNACK_LAB_${h.name.toUpperCase()}_V4`] = v4;
    if (v6) env[`SYNACK_LAB_${h.name.toUpperCase()}_V6`] = v6;
  }
  return env;
}

/** Runs a script inside a host and resolves when it ends. */
export function labRun(host: string, script: string, args: string[] = [], options: RunOptions = {}): Promise<RunResult> {
  const path = resolveScript(script);
  const env = { ...process.env, ...labEnv(host, options.lab), ...options.env };
  const child = labSpawn(host, nodeArgv(path, args), {
    lab: options.lab,
    env,
    stdio: ['ignore', 'pipe', options.inheritStderr ? 'inherit' : 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      options.onLine?.(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeout = options.timeout ?? 30_000;
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (pending) options.onLine?.(pending);
      const line = stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
      let result: unknown;
      try {
        result = line ? JSON.parse(line.slice(7)) : undefined;
      } catch {
        reject(new SynackError(`script ${script} printed a RESULT line that is not JSON: ${line}`, 'system'));
        return;
      }
      resolvePromise({ code, signal, stdout, stderr, result });
    });
  });
}
