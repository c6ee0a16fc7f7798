/**
 * How the examples print a scenario: each conversation as tcpdump lines with our state after
 * each segment, then as a ladder, then the kernel's sockets at the moments that matter.
 * `--svg FILE` also writes the first conversation's ladder as SVG.
 */
import { writeFileSync } from 'node:fs';
import '../../src/show/index.js';
import { traceLadder, traceLadderSvg, traceLines } from '../../src/tcp/trace.js';
import type { ScenarioResult } from './scenarios.js';

export function printScenario(r: ScenarioResult, out: (s: string) => void = (s) => process.stdout.write(s + '\n')): void {
  out(`== ${r.name}: server ${r.host}.${r.port}`);
  r.conversations.forEach((c, i) => {
    if (r.conversations.length > 1) out(`\n-- conversation ${i + 1}, from port ${c.endpoints.sport} (final state ${c.state})`);
    out('');
    for (const line of traceLines(c.trace)) out(line);
    out('');
    out(traceLadder(c.trace, { left: `us ${c.endpoints.src}.${c.endpoints.sport}`, right: `${c.trace[0]?.direction === 'in' ? 'client' : 'server'} ${c.endpoints.dst}.${c.endpoints.dport}` }));
  });
  if (r.serverReceived.length) out(`\nserver application received: ${r.serverReceived.map((s) => JSON.stringify(s)).join(', ')}`);
  if (r.reply) out(`we received: ${JSON.stringify(r.reply)}`);
  for (const e of r.errors) out(`as expected: ${e}`);
  for (const s of r.kernel) {
    out(`\nss -tan (port ${r.port}), ${s.moment}:`);
    out(s.sockets.length ? s.sockets.map((k) => `  ${k.line}`).join('\n') : '  (no socket)');
  }
}

/** Runs one scenario as a program: prints it, writes the SVG when asked, exits non-zero on failure. */
export async function runExample(scenario: () => Promise<ScenarioResult>): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('this example crafts packets and installs a firewall rule: run it as root (sudo)\n');
    process.exit(2);
  }
  try {
    const r = await scenario();
    printScenario(r);
    const svgAt = process.argv.indexOf('--svg');
    if (svgAt > 0 && process.argv[svgAt + 1] && r.conversations[0]) {
      writeFileSync(process.argv[svgAt + 1]!, traceLadderSvg(r.conversations[0].trace));
      process.stdout.write(`\nladder written to ${process.argv[svgAt + 1]}\n`);
    }
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
