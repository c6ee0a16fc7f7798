/**
 * How the examples print a scenario: each conversation as tcpdump lines with our state after
 * each segment, then as a ladder, then the kernel's sockets at the moments that matter.
 * `--svg FILE` also writes the ladders as SVG: FILE for a single conversation, FILE-1.svg,
 * FILE-2.svg... when there are several (full-backlog's interesting ones are 2 and 4). `--html FILE`
 * writes every conversation as one self-contained HTML view (src/view).
 */
import type { ScenarioResult } from './scenarios.js';
import { printScenario, writeLadders } from '../../src/demo/report.js';
import { mergeTraces, writeView } from '../../src/view/index.js';

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
    const svg = svgAt > 0 ? process.argv[svgAt + 1] : undefined;
    if (svg) for (const path of writeLadders(r, svg)) process.stdout.write(`\nladder written to ${path}\n`);
    const htmlAt = process.argv.indexOf('--html');
    const html = htmlAt > 0 ? process.argv[htmlAt + 1] : undefined;
    if (html) {
      writeView(html, mergeTraces(r.conversations), { title: r.name });
      process.stdout.write(`\nview written to ${html}\n`);
    }
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
