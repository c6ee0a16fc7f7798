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
import { parseTemplates } from './build.js';
import { count as setSize, packets as expandLazily } from '../packet/sets.js';

/** With --json, the packets listed (a set of millions is summed up by its first ones). */
const JSON_PACKETS = 1000;
import { examples, intOption, out } from './common.js';
import { durationOption } from './duration.js';
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
    .option('-i, --interval <time>', 'wait this long between packets, as hping3 -i: seconds, or with a unit (0.2, 200ms)', intervalOption())
    .option('-I, --iface <name>', 'leave by this interface instead of the routed one (hping3 -I)');
  if (withReplies) {
    cmd
      .option('--timeout <time>', 'wait for answers this long from the start: seconds, or 500ms, 2s (default 2)', durationOption())
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
  const asDuration = durationOption();
  return (value: string): number => {
    if (!/^\d/.test(value) && isInterfaceName(value)) {
      throw new InvalidArgumentError(`-i is the interval here (as hping3); '${value}' is an interface: did you mean -I ${value}?`);
    }
    return asDuration(value);
  };
}

function isInterfaceName(name: string): boolean {
  return name === 'any' || name in networkInterfaces() || existsSync(`/sys/class/net/${name}`);
}

export function checkIface(iface: string | undefined): void {
  if (iface !== undefined) interfaceInfo(iface);
}

/** Most probes sr/sr1 hold at once: each waits in memory for its answer. */
const MAX_PROBES = 1 << 20;

/** Parses the one expression sr and sr1 take, every packet of its set in memory (bounded). */
export function packetsOf(expr: string): Packet[] {
  const [template] = parseTemplates([expr]);
  const size = setSize(template!);
  if (size === 0) throw usageError('the expression stands for no packet (an empty set)');
  if (size > MAX_PROBES) throw usageError(`the expression stands for ${size} packets: sr holds each one until it is answered, at most ${MAX_PROBES}; use a smaller set, or send to fire and forget`);
  return [...expandLazily(template!)];
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
    .option('--duration <time>', 'with --flood: stop after this long (seconds, or 500ms, 1m)', durationOption())
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
        // The set stays a set: its packets are built as they leave (127.0.0.0/8 is 16.7M of them).
        const [template] = parseTemplates([expr]);
        const size = setSize(template!);
        if (size === 0) throw usageError('the expression stands for no packet (an empty set)');
        const first = expandLazily(template!).next().value!;
        requireRawPrivilege('synack send');
        checkIface(opts.iface);
        const link = startsWithLinkLayer(first);
        const inter = opts.interval;
        const started = performance.now();
        const window = opts.flood ? 4096 : 1024;
        // A flood with --duration and no -c runs until the time is up, one lazy pass after another.
        const count = opts.count ?? (opts.duration !== undefined ? Number.MAX_SAFE_INTEGER : 1);
        const sendOptions = { count, inter, iface: opts.iface, window, duration: opts.duration };
        const sent = await (link ? sendp(template!, sendOptions) : send(template!, sendOptions));
        const seconds = (performance.now() - started) / 1000;
        if (opts.json) {
          // The packets of the set, the first JSON_PACKETS of them: a big set is not printed whole.
          const packets: unknown[] = [];
          for (const p of expandLazily(template!)) {
            if (packets.length === JSON_PACKETS) break;
            packets.push(packetJson(p));
          }
          out(JSON.stringify({ sent, seconds: Number(seconds.toFixed(3)), packets, ...(size > JSON_PACKETS ? { more: size - JSON_PACKETS } : {}) }) + '\n');
        } else {
          const rate = opts.flood && seconds > 0 ? ` in ${seconds.toFixed(3)} s (${Math.round(sent / seconds)} packets/s)` : '';
          out(`Sent ${sent} packet${sent === 1 ? '' : 's'}${rate}.\n`);
        }
        return 0;
      }),
    );
}
