/**
 * tshark as the oracle of the TCP analysis: per frame, the stream index, relative numbers and
 * every tcp.analysis field, and the same columns from synack's Analyzer, so a test compares
 * them line for line. tshark must be installed (CI installs it; a missing oracle fails there).
 */
import { spawnSync } from 'node:child_process';
import { readPcapSync } from '../../src/pcap/read.js';
import { Analyzer } from '../../src/analysis/analyzer.js';
import { FLAGS } from '../../src/analysis/flags.js';

export function haveTshark(): boolean {
  return spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Runs tshark and returns stdout, ignoring its "Running as user root" warning. */
export function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const flagCache = new Map<string, Map<number, string[]>>();

/**
 * tshark's flags per frame: the flag fields are FT_NONE (-T fields prints them empty), so one
 * query per flag with a display filter. Remembered per file: the captures do not change.
 */
export function tsharkFlags(file: string): Map<number, string[]> {
  const known = flagCache.get(file);
  if (known) return known;
  const byFrame = new Map<number, string[]>();
  flagCache.set(file, byFrame);
  for (const f of FLAGS) {
    const out = tshark(['-r', file, '-Y', `tcp.analysis.${f.field}`, '-T', 'fields', '-e', 'frame.number']);
    for (const n of out.split('\n').filter(Boolean).map(Number)) {
      const list = byFrame.get(n) ?? [];
      list.push(f.field);
      byFrame.set(n, list);
    }
  }
  return byFrame;
}

const fix9 = (s: number | undefined): string => (s === undefined ? '' : s.toFixed(9));

/** Columns tshark and synack both give, one line per TCP frame, for a direct comparison. */
export function compareColumns(file: string): { ours: string[]; theirs: string[] } {
  const flags = tsharkFlags(file);
  const out = tshark([
    '-r', file, '-Y', 'tcp', '-T', 'fields', '-E', 'occurrence=f',
    ...['frame.number', 'tcp.stream', 'tcp.seq', 'tcp.ack', 'tcp.len', 'tcp.analysis.duplicate_ack_num', 'tcp.analysis.acks_frame', 'tcp.analysis.ack_rtt', 'tcp.analysis.bytes_in_flight', 'tcp.analysis.initial_rtt'].flatMap((f) => ['-e', f]),
  ]);
  const theirs = out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const c = l.split('\t');
      const n = Number(c[0]);
      const fl = (flags.get(n) ?? []).sort().join(',');
      return [c[0], c[1], c[2], c[3], c[4], fl, c[5], c[6], c[7], c[8], c[9]].join(' ');
    });
  const a = new Analyzer();
  const ours: string[] = [];
  for (const rec of readPcapSync(file)) {
    const s = a.add(rec);
    if (!s) continue;
    ours.push(
      [
        s.frame, s.stream, s.seq, s.ack, s.length, [...s.flags].sort().join(','),
        s.duplicateAck?.number ?? '', s.acks?.frame ?? '', fix9(s.acks?.rtt), s.bytesInFlight ?? '', fix9(s.initialRtt),
      ].join(' '),
    );
  }
  return { ours, theirs };
}
