/**
 * `synack traceroute HOST`: each hop's answer and round trips, as traceroute prints them, and
 * under each router the header it quoted back with what changed on the way (`-v` prints the
 * whole quoted header). TCP SYN by default (-T), UDP (-U) or ICMP echo (-I). Only to loopback
 * and the lab's addresses; names are lab hosts.
 */
import type { Command } from 'commander';
import { labHostAddress } from '../lab/names.js';
import { checkInScope } from '../sr/scan-scope.js';
import { traceroute, type Hop, type HopProbe, type TracerouteMethod, type TracerouteResult } from '../sr/traceroute.js';
import { isIPv4, isIPv6 } from '../wire/addr.js';
import { usageError } from '../wire/errors.js';
import { examples, intOption, out, parsePort } from './common.js';
import { durationOption } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';

const EXIT_INTERRUPTED = 130;

interface TracerouteCommandOptions {
  tcp?: boolean;
  udp?: boolean;
  icmp?: boolean;
  port?: string;
  maxHops?: number;
  queries?: number;
  wait?: number;
  ipv6?: boolean;
  verbose?: boolean;
  json?: boolean;
}

function changedText(p: HopProbe): string {
  if (!p.changed) return '';
  if (p.changed.length === 0) return 'quoted header unchanged';
  return `changed on the way: ${p.changed.map((c) => `${c.layer === 'IP' ? '' : `${c.layer} `}${c.field} ${show(c.field, c.sent)} -> ${show(c.field, c.quoted)}`).join(', ')}`;
}

function show(field: string, v: number | string): string {
  return typeof v === 'number' && (field === 'chksum' || field === 'cksum' || field === 'tos' || field === 'tc') ? `0x${v.toString(16).padStart(field === 'tos' || field === 'tc' ? 2 : 4, '0')}` : String(v);
}

/** traceroute's lines: `ttl  address  rtt ms ...  (answer)`, a new address where it changes; the quote below. */
function formatHop(h: Hop, verbose: boolean): string[] {
  let line = `${String(h.ttl).padStart(2)} `;
  let lastFrom: string | undefined;
  for (const p of h.probes) {
    if (p.from === undefined) {
      line += ' *';
      continue;
    }
    if (p.from !== lastFrom) line += ` ${p.from} (${p.answer})`;
    lastFrom = p.from;
    line += `  ${p.rtt!.toFixed(3)} ms`;
  }
  const lines = [line];
  const quoted = h.probes.find((p) => p.changed !== undefined);
  if (quoted) {
    lines.push(`      ${changedText(quoted)}`);
    if (verbose && quoted.quoted) lines.push(`      quoted IP header: ${Object.entries(quoted.quoted).map(([k, v]) => `${k} ${show(k, v)}`).join(', ')}`);
  }
  if (verbose) for (const p of h.probes) if (p.summary) lines.push(`      ${p.summary}`);
  return lines;
}

export function formatTraceroute(r: TracerouteResult, maxHops: number, verbose: boolean): string {
  const what = r.method === 'tcp' ? 'TCP SYN' : r.method === 'udp' ? 'UDP' : 'ICMP echo';
  const lines = [`traceroute to ${r.dst}, ${maxHops} hops max, ${what} probes`];
  for (const h of r.hops) lines.push(...formatHop(h, verbose));
  if (!r.reached && !r.interrupted) lines.push(`${r.dst} not reached within ${maxHops} hop${maxHops === 1 ? '' : 's'}`);
  return lines.join('\n');
}

export function registerTraceroute(program: Command): void {
  program
    .command('traceroute')
    .description("each hop toward HOST, its round trips, and the header each router quoted back (what changed on the way)")
    .argument('<host>', "an address in 127.0.0.0/8, ::1, or the lab's 198.51.100.0/24 and 2001:db8::/32, or a lab host's name")
    .option('-T, --tcp', 'TCP SYN probes (the default), to port 80 unless -p')
    .option('-U, --udp', 'UDP probes, to 33434 and up unless -p')
    .option('-I, --icmp', 'ICMP echo probes')
    .option('-p, --port <port>', 'destination port (UDP: the first; one more per probe)')
    .option('-m, --max-hops <n>', 'the highest TTL tried (at most 64)', intOption('max hops', 1, 64), 30)
    .option('-q, --queries <n>', 'probes per hop (at most 10)', intOption('queries', 1, 10), 3)
    .option('-w, --wait <time>', 'how long to wait for answers: seconds, or 500ms (default 1; at most 10 s)', durationOption(10_000))
    .option('-6', "a lab host name's IPv6 address")
    .option('-v, --verbose', 'the whole quoted header, and every reply as tcpdump prints it')
    .option('--json', 'hops, answers and quoted-header changes as JSON')
    .addHelpText(
      'after',
      examples(
        'sudo synack traceroute 127.0.0.1 -q 1',
        'sudo synack traceroute ::1 -I',
        'sudo synack lab exec client -- synack traceroute server -U',
        'sudo synack lab exec client -- synack traceroute 2001:db8:0:2::2 -T -p 7000 -v',
      ),
    )
    .action(
      action(async (hostText: string, opts: TracerouteCommandOptions & { 6?: boolean }) => {
        const chosen = [opts.tcp, opts.udp, opts.icmp].filter(Boolean).length;
        if (chosen > 1) throw usageError('choose one probe kind: -T (TCP SYN), -U (UDP) or -I (ICMP echo)');
        const method: TracerouteMethod = opts.udp ? 'udp' : opts.icmp ? 'icmp' : 'tcp';
        if (opts.icmp && opts.port !== undefined) throw usageError('ICMP echo probes have no port: drop -p, or use -T or -U');
        const port = opts.port !== undefined ? parsePort(opts.port) : undefined;
        const host = hostText === 'localhost' ? '127.0.0.1' : isIPv4(hostText) || isIPv6(hostText) ? hostText : labHostAddress(hostText, opts[6] ? 6 : 4, 'host');
        checkInScope(host, 'synack traceroute');
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.on('SIGINT', onSignal);
        let result: TracerouteResult;
        try {
          result = await traceroute({ dst: host, method, port, maxHops: opts.maxHops, queries: opts.queries, timeout: opts.wait ?? 1000, signal: stop.signal });
        } finally {
          process.off('SIGINT', onSignal);
        }
        if (opts.json) out(JSON.stringify(result) + '\n');
        else out(formatTraceroute(result, opts.maxHops ?? 30, opts.verbose ?? false) + '\n');
        if (result.interrupted) {
          process.stderr.write('synack: interrupted before the answers were in (the probes all leave at once, and are answered within -w)\n');
          return EXIT_INTERRUPTED;
        }
        return result.reached ? 0 : EXIT_NO_ANSWER;
      }),
    );
}
