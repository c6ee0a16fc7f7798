/**
 * `synack conv FILE`: the conversations of a capture, as `tshark -q -z conv,tcp` (and udp,
 * ip, ipv6) counts and prints them: frames and bytes each way, relative start, duration.
 * --json gives the same numbers as data.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { conversations, formatConversations, type ConvKind } from '../analysis/index.js';
import { examples, out } from './common.js';
import { action } from './run.js';

const KINDS: readonly ConvKind[] = ['tcp', 'udp', 'ipv4', 'ipv6'];

function parseKinds(text: string): ConvKind[] {
  const words = text.split(',').map((w) => w.trim().toLowerCase()).map((w) => (w === 'ip' ? 'ipv4' : w));
  if (words.length === 1 && words[0] === 'all') return [...KINDS];
  for (const w of words) if (!KINDS.includes(w as ConvKind)) throw new InvalidArgumentError(`'${w}' is not a conversation type: use tcp, udp, ipv4, ipv6 or all`);
  return words as ConvKind[];
}

export function registerConv(program: Command): void {
  program
    .command('conv')
    .description('list the conversations of a capture file (TCP, UDP, IPv4, IPv6) as tshark -z conv counts them')
    .argument('<file>', "a pcap or pcapng file ('-' for standard input)")
    .option('-t, --type <types>', 'tcp, udp, ipv4, ipv6 (comma-separated) or all', parseKinds, ['tcp'] as ConvKind[])
    .option('--json', 'print the conversations as JSON')
    .addHelpText('after', examples('synack conv capture.pcap', 'synack conv capture.pcap -t all', 'synack conv capture.pcap -t tcp,udp --json'))
    .action(
      action((file: string, opts: { type: ConvKind[]; json?: boolean }) => {
        const tables = conversations(file, opts.type);
        if (opts.json) out(JSON.stringify(opts.type.flatMap((k) => tables[k]), null, 2) + '\n');
        else out(opts.type.map((k) => formatConversations(k, tables[k])).join(''));
        return 0;
      }),
    );
}
