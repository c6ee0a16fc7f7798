/**
 * How a seed scenario is printed (by `synack demo` and the examples): each conversation as
 * tcpdump lines with our state after each segment, then as a ladder, then the kernel's sockets
 * at the moments that matter; and every conversation's ladder as SVG.
 */
import { writeFileSync } from 'node:fs';
import '../show/index.js';
import { traceLadder, traceLadderSvg, traceLines } from '../tcp/trace.js';
import type { ScenarioResult } from './scenarios.js';

export interface PrintOptions {
  /** -S: absolute sequence numbers (default relative, as tcpdump). */
  absolute?: boolean;
}

export function printScenario(r: ScenarioResult, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), opts: PrintOptions = {}): void {
  out(`== ${r.name}: server ${r.host}.${r.port}`);
  r.conversations.forEach((c, i) => {
    if (r.conversations.length > 1) out(`\n-- conversation ${i + 1}, from port ${c.endpoints.sport} (final state ${c.state})`);
    out('');
    for (const line of traceLines(c.trace, { absolute: opts.absolute ?? false })) out(line);
    out('');
    out(traceLadder(c.trace, { ...ladderNames(r, i), absolute: opts.absolute ?? false }));
  });
  // Who is who: in most scenarios we are the client of a kernel server; with listen() we are
  // the server and the kernel application is the client.
  const weServe = r.conversations[0]?.trace[0]?.direction === 'in';
  if (r.serverReceived.length) out(`\n${weServe ? 'we (the server) received' : 'server application received'}: ${r.serverReceived.map((s) => JSON.stringify(s)).join(', ')}`);
  if (r.reply) out(`${weServe ? 'client application received' : 'we received'}: ${JSON.stringify(r.reply)}`);
  for (const e of r.errors) out(`as expected: ${e}`);
  for (const s of r.kernel) {
    out(`\nss -tan (port ${r.port}), ${s.moment}:`);
    out(s.sockets.length ? s.sockets.map((k) => `  ${k.line}`).join('\n') : '  (no socket)');
  }
}

/** Every conversation's ladder as SVG: `path` itself for one, path-1.svg, path-2.svg... for several. */
export function writeLadders(r: ScenarioResult, path: string, opts: PrintOptions = {}): string[] {
  const all = r.conversations;
  return all.map((c, i) => {
    const file = all.length === 1 ? path : path.replace(/(\.svg)?$/i, `-${i + 1}.svg`);
    writeFileSync(file, traceLadderSvg(c.trace, { ...ladderNames(r, i), absolute: opts.absolute ?? false }) + '\n');
    return file;
  });
}

/** The two columns' names for conversation i. */
function ladderNames(r: ScenarioResult, i: number): { left: string; right: string } {
  const c = r.conversations[i]!;
  return { left: `us ${c.endpoints.src}.${c.endpoints.sport}`, right: `${c.trace[0]?.direction === 'in' ? 'client' : 'server'} ${c.endpoints.dst}.${c.endpoints.dport}` };
}

