/**
 * `synack follow FILE [--stream N]`: the reassembled payload of one TCP stream, both
 * directions, in the forms of `tshark -q -z follow,tcp,ascii,N` (the default) and
 * `follow,tcp,raw,N`. --http marks where HTTP requests and responses start.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { followFile, formatFollow } from '../analysis/index.js';
import { usageError } from '../wire/errors.js';
import { examples, intOption, out } from './common.js';
import { action } from './run.js';

function parseForm(text: string): 'ascii' | 'raw' {
  if (text !== 'ascii' && text !== 'raw') throw new InvalidArgumentError(`'${text}' is not a follow format: use ascii or raw`);
  return text;
}

export function registerFollow(program: Command): void {
  program
    .command('follow')
    .description('print the reassembled payload of one TCP stream, as tshark -z follow,tcp does')
    .argument('<file>', "a pcap or pcapng file ('-' for standard input)")
    .option('-s, --stream <n>', 'the stream index (tcp.stream, as synack read --explain and synack conv number them)', intOption('stream', 0), 0)
    .option('-f, --format <form>', 'ascii (printable text, the default) or raw (hex)', parseForm, 'ascii' as const)
    .option('--http', 'mark the chunks where HTTP requests and responses start')
    .addHelpText('after', examples('synack follow capture.pcap', 'synack follow capture.pcap --stream 2 --format raw', 'synack follow web.pcap --http'))
    .action(
      action((file: string, opts: { stream: number; format: 'ascii' | 'raw'; http?: boolean }) => {
        const { nodes, chunks } = followFile(file, opts.stream);
        if (!nodes) throw usageError(`${file} has no TCP stream ${opts.stream}: synack conv ${file} lists the streams there are`);
        out(formatFollow(opts.format, opts.stream, nodes, chunks, opts.http ?? false));
        return 0;
      }),
    );
}
