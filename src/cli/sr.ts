/**
 * `synack sr EXPR`: sends every packet the expression stands for and prints each probe with
 * its answer, then Scapy's tally ("Received N packets, got M answers, remaining K packets").
 * Exit 1 when no probe was answered.
 */
import type { Command } from 'commander';
import { sr } from '../sr/sr.js';
import { requireRawPrivilege } from '../io/privilege.js';
import { examples, LineWriter, ms, out } from './common.js';
import { EXIT_NO_ANSWER, action } from './run.js';
import { packetJson } from '../show/json.js';
import { checkIface, packetsOf, wireOptions, type WireOptions } from './send.js';

interface SrOptions extends WireOptions {
  unanswered?: boolean;
}

export function registerSr(program: Command): void {
  const cmd = program
    .command('sr')
    .description('send packets and print each one with its answer')
    .argument('<expr>', 'a packet expression (sets allowed, e.g. dport=[22,80,443])');
  wireOptions(cmd, true)
    .option('--unanswered', 'also list the probes nobody answered')
    .option('--json', 'print answered and unanswered as JSON')
    .addHelpText(
      'after',
      examples(
        `sudo synack sr "IP(dst='127.0.0.1')/TCP(dport=[22,80,443],flags='S')"`,
        `sudo synack sr "IP(dst='127.0.0.1')/TCP(dport=(1,1024),flags='S')" --timeout 0.5 --json`,
        `sudo synack sr "IP(dst='127.0.0.1')/UDP(dport=[53,123])" --retry 2 --unanswered`,
      ),
    )
    .action(
      action(async (expr: string, opts: SrOptions) => {
        const list = packetsOf(expr);
        requireRawPrivilege('synack sr');
        checkIface(opts.iface);
        const repeated = opts.count && opts.count > 1 ? Array.from({ length: opts.count }, () => list).flat() : list;
        const { answered, unanswered } = await sr(repeated, {
          timeout: opts.timeout ?? 2000,
          retry: opts.retry ?? 0,
          inter: opts.interval,
          iface: opts.iface,
        });
        if (opts.json) {
          out(
            JSON.stringify(
              {
                answered: answered.map((a) => ({ sent: packetJson(a[0]), reply: packetJson(a[1]), rtt_ms: Number((a.rtt / 1000).toFixed(3)) })),
                unanswered: unanswered.map((p) => packetJson(p)),
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          const w = new LineWriter();
          for (const a of answered) w.line(`${a[0].summary()} ==> ${a[1].summary()}  (rtt ${ms(a.rtt)} ms)`);
          if (opts.unanswered) for (const p of unanswered) w.line(`${p.summary()} ==> no answer`);
          w.line(`Received ${answered.length} packet${answered.length === 1 ? '' : 's'}, got ${answered.length} answer${answered.length === 1 ? '' : 's'}, remaining ${unanswered.length} packet${unanswered.length === 1 ? '' : 's'}`);
          w.flush();
        }
        return answered.length > 0 ? 0 : EXIT_NO_ANSWER;
      }),
    );
}
