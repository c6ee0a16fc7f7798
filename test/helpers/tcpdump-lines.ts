/**
 * The two sides of a display comparison: the lines `tcpdump -nn <flags> -r file` prints (TZ=UTC),
 * and the lines synack's printer gives for the same file and flags (-v..., -e, -q, -S, -x/-xx,
 * -t..-ttttt, --nano).
 */
import { spawnSync } from 'node:child_process';
import { createPrinter } from '../../src/index.js';
import { timestampStyleFor } from '../../src/show/printer.js';
import { scanFramesSync } from '../../src/pcap/read.js';

export function tcpdumpLines(file: string, flags: readonly string[]): string[] {
  const r = spawnSync('tcpdump', ['-nn', ...flags, '-r', file], { encoding: 'latin1', env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tcpdump failed: ${r.stderr}`);
  return r.stdout.split('\n').slice(0, -1);
}

export function ourLines(file: string, flags: readonly string[]): string[] {
  const verbose = flags.join('').split('v').length - 1;
  const tFlag = flags.find((f) => /^-t+$/.test(f));
  const printer = createPrinter({
    verbose,
    link: flags.includes('-e'),
    quiet: flags.includes('-q'),
    absolute: flags.includes('-S'),
    hex: flags.includes('-xx') ? 'xx' : flags.some((f) => /^-x+$/.test(f)) ? 'x' : undefined,
    timestamps: timestampStyleFor(tFlag ? tFlag.length - 1 : 0),
  });
  // tcpdump prints microseconds even from a nanosecond file, unless given --nano.
  const nano = flags.includes('--nano');
  // As `synack read` prints: each frame where it lies in the read chunk (at its offset there, not 0).
  scanFramesSync(file, (buf, start, caplen, origLen, seconds, nanos, linkType) => {
    printer.appendFrame(buf, start, caplen, origLen, seconds, nanos, linkType, nano);
  });
  return printer.takeBytes().toString('latin1').split('\n').slice(0, -1);
}
