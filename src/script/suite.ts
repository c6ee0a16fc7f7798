/**
 * A folder of scripts, run one after another: each script read, parsed and run on its own, its
 * verdict an outcome for the report (report.ts). A script that cannot be read (a syntax
 * error, a missing file) is that script's error; the run goes on with the next one.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SynackError, usageError } from '../wire/errors.js';
import { fileError } from '../wire/file-error.js';
import { parseScript } from './parse.js';
import { runScript, type RunResult } from './runner.js';
import { formatTarget, type Target } from './target.js';
import type { ScriptOutcome } from './report.js';

export interface SuiteOptions {
  target?: string | Target | undefined;
  listen?: { port: number; address?: string | undefined } | undefined;
  client?: string | undefined;
  tolerance?: number | undefined;
  strictSegments?: boolean | undefined;
  nothingMore?: boolean | undefined;
  defines?: Record<string, string> | undefined;
}

/** Scripts a folder holds at most: a run of thousands is a mistake worth a message. */
const MAX_SCRIPTS = 5000;

/** Files as given; folders become their .pkt files (sub-folders too), in name order. */
export function expandScriptPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8) return;
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      let st: ReturnType<typeof statSync>;
      try {
        st = statSync(full, { throwIfNoEntry: false });
      } catch (err) {
        throw fileError(full, err, 'read', 'script');
      }
      if (st?.isDirectory()) walk(full, depth + 1);
      else if (st?.isFile() && name.endsWith('.pkt')) out.push(full);
      if (out.length > MAX_SCRIPTS) throw usageError(`more than ${MAX_SCRIPTS} scripts under ${paths.join(' ')}: give a smaller folder`);
    }
  };
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p, { throwIfNoEntry: false });
    } catch (err) {
      // A symlink loop, a path through a file, no permission: the one line every file error gets.
      throw fileError(p, err, 'read', 'script');
    }
    if (st?.isDirectory()) {
      const before = out.length;
      walk(p, 0);
      if (out.length === before) throw usageError(`no .pkt scripts in ${p}`);
    } else out.push(p);
  }
  return out;
}

/** The pass line's tail: what it ran against, RTT, joins and tolerated retransmissions. */
export function passSummary(r: RunResult): string {
  let s = `against ${formatTarget(r.target)}`;
  if (r.connections.length > 1) s += `, ${r.connections.length} connections (${r.connections.join(', ')})`;
  if (r.rtt !== undefined) s += `, handshake RTT ${(r.rtt * 1000).toFixed(3)} ms`;
  if (r.joins.length) s += `, ${r.joins.length} line${r.joins.length === 1 ? '' : 's'} joined from ${r.joins.reduce((a, b) => a + b, 0)} segments`;
  if (r.retransmissionsSkipped) s += `, ${r.retransmissionsSkipped} retransmissions tolerated`;
  return s;
}

export async function runScriptFile(file: string, opts: SuiteOptions): Promise<ScriptOutcome> {
  const t0 = performance.now();
  const seconds = (): number => (performance.now() - t0) / 1000;
  try {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      return { file, status: 'error', seconds: seconds(), message: `${file}: cannot read the script: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
    }
    const script = parseScript(text, file, { defines: opts.defines });
    const r = await runScript(script, {
      target: opts.target,
      listen: opts.listen,
      client: opts.client,
      tolerance: opts.tolerance,
      strictSegments: opts.strictSegments,
      nothingMore: opts.nothingMore,
    });
    if (r.failure) return { file, status: 'failed', seconds: seconds(), line: r.failure.line, field: r.failure.field, connection: r.failure.connection, message: `${file}: ${r.failure.message}` };
    return { file, status: 'passed', seconds: seconds(), summary: passSummary(r) };
  } catch (err) {
    // A script mistake (syntax, no target) is this script's error; anything else is ours to raise.
    if (err instanceof SynackError && err.kind === 'usage') return { file, status: 'error', seconds: seconds(), message: err.message };
    throw err;
  }
}

export async function runScriptFiles(files: readonly string[], opts: SuiteOptions): Promise<ScriptOutcome[]> {
  const outcomes: ScriptOutcome[] = [];
  for (const f of files) outcomes.push(await runScriptFile(f, opts));
  return outcomes;
}
