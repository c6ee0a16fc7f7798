/**
 * `synack sr1 EXPR`: sends the packet and prints the first answer (summary, or --show's field
 * tree, or --json), with its round-trip time. Exit 1 when nothing answered in time.
 */
import type { Command } from 'commander';
import { sr } from '../sr/sr.js';
import { examples, ms, note, out } from './common.js';
import { formatDuration } from './duration.js';
import { EXIT_NO_ANSWER, action } from './run.js';
import { packetJson } from '../show/json.js';
import { checkIface, packetsOf, wireOptions, type WireOptions } from './send.js';
import { requireRawPrivilege } from '../io/privilege.js';

interface Sr1Options extends WireOptions {
  show?: boolean;
}

export function registerSr1(program: Command): void {
  const cmd = program
    .command('sr1')
    .description('send a packet and print the first answer')
    .argument('<expr>', 'a packet expression');
  wireOptions(cmd, true)
    .option('--show', 'print every field of the answer')
    .option('--json', 'print the probe, the answer and the rtt as JSON')
    .addHelpText(
      'after',
      examples(
        `sudo synack sr1 "IP(dst='127.0.0.1')/TCP(dport=22,flags='S')"`,
        `sudo synack sr1 "IP(dst='127.0.0.1')/ICMP()" --show`,
        `sudo synack sr1 "IP(dst='127.0.0.1')/TCP(dport=9,flags='S')" --timeout 0.5 --retry 2 --json`,
      ),
    )
    .action(
      action(async (expr: string, opts: Sr1Options) => {
        const list = packetsOf(expr);
        requireRawPrivilege('synack sr1');
        checkIface(opts.iface);
        const timeout = opts.timeout ?? 2000;
        const repeated = opts.count && opts.count > 1 ? Array.from({ length: opts.count }, () => list).flat() : list;
        const { answered } = await sr(repeated, {
          timeout,
          retry: opts.retry ?? 0,
          inter: opts.interval,
          iface: opts.iface,
        });
        const first = answered[0];
        if (!first) {
          if (opts.json) out(JSON.stringify({ sent: packetJson(list[0]!), reply: null, rtt_ms: null }) + '\n');
          note(`synack: no answer within ${formatDuration(timeout)}${opts.retry ? ` (${opts.retry + 1} tries)` : ''}\n`);
          return EXIT_NO_ANSWER;
        }
        const [sent, reply] = first;
        if (opts.json) {
          out(JSON.stringify({ sent: packetJson(sent), reply: packetJson(reply), rtt_ms: Number((first.rtt / 1000).toFixed(3)) }) + '\n');
        } else if (opts.show) {
          out(reply.show() + '\n');
        } else {
          out(`${reply.summary()}  (rtt ${ms(first.rtt)} ms)\n`);
        }
        return 0;
      }),
    );
}
