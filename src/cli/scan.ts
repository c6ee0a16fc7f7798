/**
 * `synack scan TARGET... -p PORTS`: nmap's -sS/-sF/-sN/-sX/-sA against addresses, CIDR blocks
 * and lab host names (only where synack may send: loopback and the lab's ranges), printed as
 * nmap prints (PORT STATE SERVICE, services from /etc/services). Ctrl-C prints what was
 * settled so far, releases the capture and socket, and exits 130.
 *
 * Start-up is part of a full-port scan's time beside nmap, so this module loads only the scan
 * engine, the capture and the raw socket: no layers, no dissector.
 */
import type { Command } from 'commander';
import { interfaceInfo } from '../io/route.js';
import { labHostAddress } from '../lab/names.js';
import { serviceName } from '../pcap/filter/names.js';
import { PORT_STATES, SCAN_FLAGS, scan, type HostScan, type PortState, type ScanResult, type ScanType } from '../sr/scan.js';
import { expandTargets } from '../sr/scan-scope.js';
import { usageError } from '../wire/errors.js';
import { examples, intOption, out, palette, parsePortList } from './common.js';
import { durationOption } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';

export type { ScanResult, ScanType } from '../sr/scan.js';

/** Exit status after Ctrl-C, as a shell reports a process killed by SIGINT. */
const EXIT_INTERRUPTED = 130;

/** A state with more ports than this is summarised in "Not shown", as nmap does. */
const SHOWN_LIMIT = 25;

const REASON: Record<PortState, string> = { open: 'syn-ack', closed: 'reset', filtered: 'no-response', unfiltered: 'reset', 'open|filtered': 'no-response' };

interface ScanCommandOptions {
  ports?: string;
  rate?: number;
  type?: string;
  retries?: number;
  timeout?: number;
  iface?: string;
  json?: boolean;
  all?: boolean;
}

function progressBar(stream: NodeJS.WriteStream): ((sent: number, total: number, answered: number) => void) & { done(): void } {
  let last = 0;
  const draw = (sent: number, total: number, answered: number): void => {
    const now = performance.now();
    if (now - last < 80 && sent < total) return;
    last = now;
    const width = 30;
    const filled = Math.round((sent / Math.max(1, total)) * width);
    stream.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${sent}/${total} probes, ${answered} answers`);
  };
  return Object.assign(draw, { done: () => stream.write('\r\x1b[K') });
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** One host's report, as nmap prints it: the open ports and small groups listed, the rest counted. */
function formatHost(h: HostScan, showAll: boolean): string[] {
  const c = palette();
  const colour: Record<PortState, (s: string) => string> = { open: c.green, closed: c.red, filtered: c.yellow, unfiltered: c.green, 'open|filtered': c.yellow };
  const lines = [`synack scan report for ${h.host}`];
  const heard = h.ports.open.length + h.ports.closed.length + h.ports.unfiltered.length;
  if (h.latency !== undefined) lines.push(`Host is up (${h.latency.toFixed(6).replace(/0+$/, '').replace(/\.$/, '')}s latency).`);
  else if (heard === 0) lines.push('No answer from this host: every probe went unanswered.');
  const listed: Array<[number, PortState]> = [];
  const hidden: string[] = [];
  for (const state of PORT_STATES) {
    const ports = h.ports[state];
    if (ports.length === 0) continue;
    if (state === 'open' || showAll || ports.length <= SHOWN_LIMIT) for (const p of ports) listed.push([p, state]);
    else hidden.push(`${ports.length} ${state} tcp port${ports.length === 1 ? '' : 's'} (${REASON[state]})`);
  }
  if (hidden.length) lines.push(`Not shown: ${hidden.join(', ')}`);
  if (h.unsettled) lines.push(`Not settled: ${plural(h.unsettled, 'port')} (interrupted)`);
  listed.sort((a, b) => a[0] - b[0]);
  if (listed.length === 0) return lines;
  const rows = listed.map(([p, state]) => [`${p}/tcp`, state, serviceName(p, 'tcp') ?? 'unknown', REASON[state]] as const);
  const width = (col: number, title: string): number => Math.max(title.length, ...rows.map((r) => r[col].length)) + 1;
  const wPort = width(0, 'PORT');
  const wState = width(1, 'STATE');
  const wService = width(2, 'SERVICE');
  lines.push(`${'PORT'.padEnd(wPort)}${'STATE'.padEnd(wState)}${'SERVICE'.padEnd(wService)}REASON`);
  for (const [port, state, service, reason] of rows) lines.push(`${port.padEnd(wPort)}${colour[state](state.padEnd(wState))}${service.padEnd(wService)}${reason}`);
  return lines;
}

/** nmap-like output: a report per host, then one line of totals. */
export function formatScan(r: ScanResult, showAll: boolean): string {
  const blocks = r.hosts.map((h) => formatHost(h, showAll).join('\n'));
  const up = r.hosts.filter((h) => h.latency !== undefined).length;
  const done = `synack done: ${plural(r.hosts.length, 'address', 'addresses')} (${plural(up, 'host')} up) scanned in ${r.seconds.toFixed(2)} s, ${plural(r.probesSent, 'probe')} (${r.type})${r.interrupted ? ', interrupted' : ''}`;
  return [...blocks, done].join('\n\n');
}

/** The JSON form: every host under `hosts`; with one target its `host` and `ports` on top too. */
function jsonOf(r: ScanResult): string {
  const hosts = r.hosts.map((h) => ({ host: h.host, ports: h.ports, unsettled: h.unsettled, latency: h.latency ?? null }));
  const single = hosts.length === 1 ? { host: hosts[0]!.host, ports: hosts[0]!.ports } : {};
  return JSON.stringify({ type: r.type, seconds: Number(r.seconds.toFixed(3)), probesSent: r.probesSent, interrupted: r.interrupted, ...single, hosts });
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('scan TCP ports as nmap -sS/-sF/-sN/-sX/-sA does: open, closed, filtered, settled by retries')
    .argument('<targets...>', 'addresses, CIDR blocks (127.0.0.0/24) or lab host names; only 127.0.0.0/8, ::1 and the lab\'s 198.51.100.0/24, 2001:db8::/32')
    .option('-p, --ports <list>', "ports: '22', '1-1024,8080', '-' for all 65535", '1-1024')
    .option('--type <type>', 'syn, fin, null, xmas or ack', 'syn')
    .option('--rate <n>', 'at most this many probes per second (default: as fast as the host answers)', intOption('rate', 1, 10_000_000))
    .option('--retries <n>', 'probe the silent ports again this many times', intOption('retries', 0, 20), 2)
    .option('--timeout <time>', 'longest wait for answers after each round: seconds, or 500ms (default 1)', durationOption())
    .option('--iface <name>', 'leave by this interface')
    .option('--all', 'list every port, not only open ones and small groups')
    .option('--json', 'print the result as JSON (every port under its state)')
    .addHelpText(
      'after',
      examples(
        'sudo synack scan 127.0.0.1',
        'sudo synack scan 127.0.0.1 127.0.0.2 -p 1-1024,8080',
        'sudo synack scan 127.0.0.0/29 -p 22,80',
        'sudo synack scan 127.0.0.1 -p - --json',
        'sudo synack scan ::1 -p 22,80,443 --type fin --retries 2',
        'sudo synack lab exec client -- synack scan server -p 7000-7010',
      ),
    )
    .action(
      action(async (targetTexts: string[], opts: ScanCommandOptions) => {
        const type = (opts.type ?? 'syn').toLowerCase();
        if (!(type in SCAN_FLAGS)) throw usageError(`unknown scan type '${opts.type}': use syn, fin, null, xmas or ack`);
        const ports = parsePortList(opts.ports ?? '1-1024');
        if (ports.includes(0)) throw usageError('port 0 cannot be scanned: ports are 1-65535');
        const targets = expandTargets(
          targetTexts.map((t) => (t === 'localhost' ? '127.0.0.1' : t)),
          'synack scan',
          (name) => labHostAddress(name, 4, 'host'),
        );
        if (opts.iface !== undefined) interfaceInfo(opts.iface);
        const bar = process.stderr.isTTY && !opts.json ? progressBar(process.stderr) : undefined;
        // Ctrl-C stops the probes; the ports settled so far are printed below.
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.on('SIGINT', onSignal);
        let result: ScanResult;
        try {
          result = await scan({
            targets,
            ports,
            type: type as ScanType,
            retries: opts.retries ?? 2,
            rate: opts.rate,
            timeout: opts.timeout ?? 1000,
            iface: opts.iface,
            signal: stop.signal,
            onProgress: bar,
          });
        } finally {
          process.off('SIGINT', onSignal);
          bar?.done();
        }
        if (opts.json) out(jsonOf(result) + '\n');
        else out(formatScan(result, opts.all ?? false) + '\n');
        if (result.interrupted) {
          process.stderr.write('synack: interrupted: the ports settled so far are above\n');
          return EXIT_INTERRUPTED;
        }
        const heard = result.hosts.some((h) => h.ports.open.length + h.ports.closed.length + h.ports.unfiltered.length > 0);
        return heard || type !== 'syn' ? 0 : EXIT_NO_ANSWER;
      }),
    );
}
