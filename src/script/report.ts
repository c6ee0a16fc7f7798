/**
 * Verdicts of script runs, written for a reader or a CI: synack's own lines, packetdrill's
 * (`file:line: error handling packet: ...`, nothing on a pass), TAP 13, or JUnit XML. One
 * outcome per script; a script that could not be read is an error, not a failure, as JUnit
 * tells them apart (and TAP says `not ok` with the reason).
 */
export const REPORT_FORMATS = ['synack', 'packetdrill', 'tap', 'junit'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ScriptOutcome {
  /** The script's path as given. */
  file: string;
  status: 'passed' | 'failed' | 'error';
  /** Seconds the run took. */
  seconds: number;
  /** The failed line (0: the script as a whole) and field, for failures. */
  line?: number | undefined;
  field?: string | undefined;
  /** The failed line's connection, in a script of named connections. */
  connection?: string | undefined;
  /** The whole report of a failure or error (several lines). */
  message?: string | undefined;
  /** One line on a pass: what it ran against, the RTT, joins, tolerated retransmissions. */
  summary?: string | undefined;
  /** Lines skipped by name (not performed), for the report. */
  skipped?: string[] | undefined;
}

export function formatReport(format: ReportFormat, outcomes: readonly ScriptOutcome[]): string {
  switch (format) {
    case 'synack':
      return outcomes.map(synackLine).join('');
    case 'packetdrill':
      return outcomes.map(packetdrillLine).join('');
    case 'tap':
      return tap(outcomes);
    case 'junit':
      return junit(outcomes);
  }
}

function synackLine(o: ScriptOutcome): string {
  if (o.status === 'passed') return `${o.file}: passed${o.summary ? ` ${o.summary}` : ''}\n`;
  return `${o.message ?? `${o.file}: ${o.status}`}\n`;
}

/** packetdrill prints nothing for a script that passes, and `file:line: error ...` for one that does not. */
function packetdrillLine(o: ScriptOutcome): string {
  if (o.status === 'passed') return '';
  if (o.status === 'error') return `${o.message ?? o.file}\n`;
  const [first, ...rest] = (o.message ?? '').split('\n');
  // The verdict without our own 'file: script line N[, connection C]:' prefix, which packetdrill's form replaces.
  const reason = (first ?? '').replace(/^(?:.*?: )?script(?: line \d+)?(?:, connection [^:]+)?: /, '');
  const conn = o.connection === undefined ? '' : `connection ${o.connection}: `;
  return `${o.file}:${o.line ?? 0}: error handling packet: ${conn}${reason}\n${rest.map((l) => `${l}\n`).join('')}`;
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

function tap(outcomes: readonly ScriptOutcome[]): string {
  let s = `TAP version 13\n1..${outcomes.length}\n`;
  outcomes.forEach((o, i) => {
    const n = i + 1;
    if (o.status === 'passed') {
      s += `ok ${n} - ${o.file}${o.skipped?.length ? ` # ${o.skipped.length} lines skipped` : ''}\n`;
      return;
    }
    s += `not ok ${n} - ${o.file}\n  ---\n`;
    s += `  status: ${o.status}\n`;
    if (o.line !== undefined) s += `  line: ${o.line}\n`;
    if (o.field !== undefined) s += `  field: ${o.field}\n`;
    if (o.connection !== undefined) s += `  connection: ${yamlString(o.connection)}\n`;
    s += `  message: ${yamlString(o.message ?? '')}\n`;
    s += `  duration_ms: ${Math.round(o.seconds * 1000)}\n  ...\n`;
  });
  return s;
}

/** XML text and attribute escaping; characters XML 1.0 cannot hold at all become U+FFFD. */
function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function junit(outcomes: readonly ScriptOutcome[]): string {
  const failures = outcomes.filter((o) => o.status === 'failed').length;
  const errors = outcomes.filter((o) => o.status === 'error').length;
  const total = outcomes.reduce((t, o) => t + o.seconds, 0);
  let s = '<?xml version="1.0" encoding="UTF-8"?>\n';
  s += `<testsuites name="synack script" tests="${outcomes.length}" failures="${failures}" errors="${errors}" time="${total.toFixed(3)}">\n`;
  s += `  <testsuite name="synack script" tests="${outcomes.length}" failures="${failures}" errors="${errors}" skipped="0" time="${total.toFixed(3)}">\n`;
  for (const o of outcomes) {
    s += `    <testcase classname="synack.script" name="${xml(o.file)}" file="${xml(o.file)}" time="${o.seconds.toFixed(3)}"`;
    if (o.status === 'passed' && !o.skipped?.length) {
      s += '/>\n';
      continue;
    }
    s += '>\n';
    const first = (o.message ?? '').split('\n')[0] ?? '';
    if (o.connection !== undefined) s += `      <properties><property name="connection" value="${xml(o.connection)}"/></properties>\n`;
    if (o.status === 'failed') s += `      <failure message="${xml(first)}" type="${xml(o.field ?? 'check')}">${xml(o.message ?? '')}</failure>\n`;
    if (o.status === 'error') s += `      <error message="${xml(first)}" type="script">${xml(o.message ?? '')}</error>\n`;
    if (o.skipped?.length) s += `      <system-out>${xml(`skipped: ${o.skipped.join(', ')}`)}</system-out>\n`;
    s += '    </testcase>\n';
  }
  s += '  </testsuite>\n</testsuites>\n';
  return s;
}
