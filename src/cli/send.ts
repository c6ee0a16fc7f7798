/**
 * `synack send EXPR`: sends the packets an expression stands for, -c times, every -i seconds,
 * or as a flood bounded by -c or --duration. A packet that starts with a link layer (Ether)
 * is injected as a whole frame (sendp); one that starts with IP goes through a raw socket.
 */
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { send, sendp } from '../sr/send.js';
import type { Packet } from '../packet/packet.js';
import { networkIndex } from '../sr/match.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { interfaceInfo } from '../io/route.js';
import { usageError } from '../wire/errors.js';
import { parseAll } from './build.js';
import { examples, intOption, numberOption, out } from './common.js';
import { action } from './run.js';
import { packetJson } from '../show/json.js';

/** Options every wire command shares. */
export interface WireOptions {
  count?: number;
  interval?: number;
  iface?: string;
  timeout?: number;
  retry?: number;
  json?: boolean;
}

/** Adds -c, -i, --iface, and for sr/sr1 --timeout and --retry. */
export function wireOptions(cmd: Command, withReplies: boolean): Command {
  cmd
    .option('-c, --count <n>', 'send the packets this many times', intOption('count', 1, 100_000_000))
    .option('-i, --interval <seconds>', 'wait this long between packets (fractions allowed), as hping3 -i', intervalOption())
    .option('-I, --iface <name>', 'leave by this interface instead of the routed one (hping3 -I)');
  if (withReplies) {
    cmd
      .option('--timeout <seconds>', 'wait this long for answers after the last packet (default 2)', numberOption('timeout'))
      .option('--retry <n>', 'send the unanswered again this many times', intOption('retry', 0, 100));
  }
  return cmd;
}

/** Checks --iface before anything leaves: an unknown name is one usage line. */
/**
 * -i in the sending commands is hping3's interval; a user with tcpdump's habits writes `-i lo`.
 * A word that names an interface gets "did you mean -I"; anything else the number's own error.
 */
export function intervalOption(): (value: string) => number {
  const asNumber = numberOption('interval');
  return (value: string): number => {
    if (!/^\d/.test(value) && isInterfaceName(value)) {
      throw new InvalidArgumentError(`-i is the interval in seconds here (as hping3); '${value}' is an interface: did you mean -I ${value}?`);
    }
    return asNumber(value);
  };
}

function isInterfaceName(name: string): boolean {
  return name === 'any' || name in networkInterfaces() || existsSync(`/sys/class/net/${name}`);
}

export function checkIface(iface: string | undefined): void {
  if (iface !== undefined) interfaceInfo(iface);
}

/** Parses the one expression these commands take. */
export function packetsOf(expr: string): Packet[] {
  const list = parseAll([expr]);
  if (list.length === 0) throw usageError('the expression stands for no packet (an empty set)');
  return list;
}

function startsWithLinkLayer(p: Packet): boolean {
  return networkIndex(p.layers) !== 0;
}

interface SendCommandOptions extends WireOptions {
  flood?: boolean;
  duration?: number;
}

export function registerSend(program: Command): void {
  const cmd = program
    .command('send')
    .description('send packets built from an expression (IP and up through a raw socket; Ether frames injected)')
    .argument('<expr>', 'a packet expression (sets allowed)');
  wireOptions(cmd, false)
    .option('--flood', 'send as fast as possible (needs -c or --duration to end)')
    .option('--duration <seconds>', 'with --flood: stop after this long', numberOption('duration'))
    .option('--json', 'print what was sent as JSON')
    .addHelpText(
      'after',
      examples(
        `sudo synack send "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')"`,
        `sudo synack send "IP(dst='127.0.0.1')/UDP(dport=9)/b'x'" -c 5 -i 0.2`,
        `sudo synack send "IP(dst='127.0.0.1')/TCP(dport=9,flags='S')" --flood -c 100000`,
        `sudo synack send "IP(dst='127.0.0.1')/TCP(dport=9,flags='S')" --flood --duration 2`,
        `sudo synack send "Ether()/IP(dst='127.0.0.1')/ICMP()" --iface lo`,
      ),
    )
    .action(
      action(async (expr: string, opts: SendCommandOptions) => {
        if (opts.flood && opts.count === undefined && opts.duration === undefined) {
          throw usageError('--flood needs an end: add -c N or --duration SECONDS');
        }
        if (opts.duration !== undefined && !opts.flood) throw usageError('--duration goes with --flood');
        if (opts.flood && opts.interval !== undefined) throw usageError('--flood and -i contradict each other: pick one');
        const list = packetsOf(expr);
        requireRawPrivilege('synack send');
        checkIface(opts.iface);
        const link = startsWithLinkLayer(list[0]!);
        const inter = opts.interval !== undefined ? opts.interval * 1000 : undefined;
        const started = performance.now();
        let sent = 0;
        const once = (count: number, signal?: AbortSignal): Promise<number> =>
          link
            ? sendp(list, { count, inter, iface: opts.iface, window: opts.flood ? 4096 : 1024, signal })
            : send(list, { count, inter, iface: opts.iface, window: opts.flood ? 4096 : 1024, signal });
        if (opts.flood && opts.duration !== undefined) {
          // Rounds of a bounded size until the time is up (or -c is reached): memory stays flat.
          const deadline = started + opts.duration * 1000;
          const limit = opts.count !== undefined ? opts.count * list.length : Infinity;
          const round = Math.max(1, Math.floor(16384 / list.length));
          while (performance.now() < deadline && sent < limit) {
            const rounds = Math.min(round, Math.ceil((limit - sent) / list.length));
            sent += await once(rounds);
          }
        } else {
          sent = await once(opts.count ?? 1);
        }
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) {
          out(JSON.stringify({ sent, seconds: Number(seconds.toFixed(3)), packets: list.map((p) => packetJson(p)) }) + '\n');
        } else {
          const rate = opts.flood && seconds > 0 ? ` in ${seconds.toFixed(3)} s (${Math.round(sent / seconds)} packets/s)` : '';
          out(`Sent ${sent} packet${sent === 1 ? '' : 's'}${rate}.\n`);
        }
        return 0;
      }),
    );
}
