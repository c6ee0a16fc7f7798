/**
 * How the examples print a scenario: each conversation as tcpdump lines with our state after
 * each segment, then as a ladder, then the kernel's sockets at the moments that matter.
 * `--svg FILE` also writes the ladders as SVG: FILE for a single conversation, FILE-1.svg,
 * FILE-2.svg... when there are several (full-backlog's interesting ones are 2 and 4). `--html FILE`
 * writes every conversation as one self-contained HTML view (src/view).
 * `--explain` (or SYNACK_EXPLAIN=1) adds every segment of the scenario once more, in time
 * order, each with its plain-language note and both endpoints' states, as `synack read
 * --explain` prints a capture (explainTrace() gives the notes).
 */
import type { ScenarioResult } from './scenarios.js';
import { printScenario, writeLadders } from '../../src/demo/report.js';
import { explainTrace, formatExplanation, traceLines } from '../../src/index.js';
import { mergeTraces, writeView } from '../../src/view/index.js';

/** Every segment of the scenario's conversations in time order, each followed by its note. */
export function explainedLines(r: ScenarioResult): string[] {
  const entries = r.conversations.flatMap((c) => c.trace).sort((a, b) => (a.packet.time ?? 0) - (b.packet.time ?? 0));
  const notes = explainTrace(entries);
  const lines = traceLines(entries, { states: false });
  return lines.flatMap((line, i) => {
    const e = notes[i]!;
    return e.analysis ? [line, formatExplanation(e.labels, e.note, e.client, e.server)] : [line];
  });
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
    if (process.argv.includes('--explain') || process.env.SYNACK_EXPLAIN === '1') {
      process.stdout.write(`\n-- explained (synack read --explain)\n${explainedLines(r).join('\n')}\n`);
    }
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
