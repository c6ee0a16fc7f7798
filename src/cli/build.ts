/**
 * `synack build EXPR...`: packets from the text form, printed as tcpdump summaries (default),
 * as hex, as show()'s field tree, or written to a pcap file. Expressions come from the
 * arguments, or one per line from -f FILE or standard input. Set-valued fields
 * (dport=[22,80], dport=(1,10)) expand to every packet they stand for.
 */
import type { Command } from 'commander';
import { packet } from '../packet/text/index.js';
import { packets as expandSet } from '../packet/sets.js';
import type { Packet } from '../packet/packet.js';
import { packetFrame } from '../show/packet-frame.js';
import { Ether } from '../packet/factories.js';
import { writePcap } from '../pcap/pcap-writer.js';
import { readTextFile } from './files.js';
import { linkTypeDescription } from '../pcap/link-type-names.js';
import { usageError } from '../wire/errors.js';
import { packetJson } from '../show/json.js';
import { examples, LineWriter } from './common.js';
import { action } from './run.js';

interface BuildOptions {
  file?: string;
  hex?: boolean;
  hexdump?: boolean;
  show?: boolean;
  pcap?: string;
  json?: boolean;
}

/** Expressions from the arguments, or from a file / stdin, one per line ('#' starts a comment). */
export function readExpressions(args: string[], file: string | undefined, what: string): string[] {
  if (args.length > 0 && file) throw usageError(`${what}: give expressions as arguments or with -f, not both`);
  if (args.length > 0) return args;
  let text: string;
  if (file) {
    text = readTextFile(file);
  } else if (process.stdin.isTTY) {
    throw usageError(`${what}: give a packet expression, e.g. ${what} "IP(dst='127.0.0.1')/TCP(dport=80)", or -f FILE`);
  } else {
    text = readTextFile('-');
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw usageError(`${what}: ${file ? file : 'standard input'} holds no expression`);
  return lines;
}

/** Parses every expression (errors name the line when there are several) and expands sets. */
export function parseAll(exprs: string[]): Packet[] {
  const out: Packet[] = [];
  for (const p of parseTemplates(exprs)) for (const one of expandSet(p)) out.push(one);
  return out;
}

/** Parses every expression, sets left unexpanded (walk them with packets() from sets.ts). */
export function parseTemplates(exprs: string[]): Packet[] {
  return exprs.map((expr, i) => {
    try {
      return packet(expr);
    } catch (err) {
      if (exprs.length > 1 && err instanceof Error) err.message = `expression ${i + 1}: ${err.message}`;
      throw err;
    }
  });
}

/**
 * The packets as one capture file can hold them, and what was done to make them fit (for the
 * "wrote N packets" line). A pcap file has one link type, and tcpdump 4.99 (libpcap 1.10)
 * refuses a pcapng file whose interfaces differ in link type, so Ethernet frames mixed with
 * bare IP packets become all Ethernet: each bare IP packet gets an Ethernet header with zero
 * addresses under it, as text2pcap -e does. Any other mix goes to pcapng, one interface per
 * link type, which Wireshark and tshark read (tcpdump only up to the first other link type).
 */
function forOneFile(list: Packet[], path: string): { packets: Packet[]; note: string; pcapng: boolean } {
  const kinds = [...new Set(list.map((p) => packetFrame(p).linkType))];
  if (kinds.length <= 1) return { packets: list, note: '', pcapng: false };
  const ng = /\.pcapng$/i.test(path);
  if (!ng && kinds.length === 2 && kinds.includes(1) && kinds.includes(101)) {
    let lifted = 0;
    const packets = list.map((p) => {
      if (packetFrame(p).linkType !== 101) return p;
      lifted++;
      return Ether({ dst: '00:00:00:00:00:00', src: '00:00:00:00:00:00' }).add(p);
    });
    return { packets, note: ` (Ethernet: ${lifted} packet${lifted === 1 ? '' : 's'} without a link layer got an Ethernet header with zero addresses, as a pcap file holds one link type)`, pcapng: false };
  }
  const names = kinds.map((t) => linkTypeDescription(t)).join(', ');
  return { packets: list, note: ` (pcapng, one interface per link type: ${names}; tcpdump 4.99 reads only files of one link type)`, pcapng: true };
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('build packets from the Scapy text form and print them')
    .argument('[expr...]', "packet expressions, e.g. \"IP(dst='127.0.0.1')/TCP(dport=80,flags='S')\"")
    .option('-f, --file <file>', "read expressions from FILE, one per line ('-' for stdin)")
    .option('--hex', 'print the bytes as one hex string per packet')
    .option('--hexdump', "print a hexdump (Scapy's hexdump())")
    .option('--show', "print every field (Scapy's show2())")
    .option('--pcap <file>', 'write the packets to a capture file (pcapng when FILE ends in .pcapng or the packets need several link types)')
    .option('--json', 'print JSON: each packet in the packet schema (time, summary, layers) with its hex, command and length')
    .addHelpText(
      'after',
      examples(
        `synack build "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')"`,
        `synack build --hex "IP(dst='127.0.0.1')/UDP(dport=53)/b'hello'"`,
        `synack build --show "IP(dst='127.0.0.1')/TCP(options=[('MSS',1460)])"`,
        `synack build "IP(dst='127.0.0.1')/TCP(dport=[22,80,443])" --pcap syns.pcap`,
        'synack build -f packets.txt --json',
      ),
    )
    .action(
      action((exprs: string[], opts: BuildOptions) => {
        const list = parseAll(readExpressions(exprs, opts.file, 'synack build'));
        let wrote = '';
        if (opts.pcap) {
          const { packets, note, pcapng } = forOneFile(list, opts.pcap);
          const writer = writePcap(opts.pcap, pcapng ? { format: 'pcapng' } : {});
          try {
            for (const p of packets) writer.write(p);
          } finally {
            writer.close();
          }
          wrote = note;
        }
        const w = new LineWriter();
        if (opts.json) {
          // The packet schema every --json uses (time, summary, layers), with the bytes and the text form beside it.
          w.line(JSON.stringify(list.map((p) => {
            const bytes = p.bytes();
            return { ...packetJson(p), hex: bytes.toString('hex'), command: p.command(), length: bytes.length };
          }), null, 2));
        } else if (opts.pcap && !opts.hex && !opts.hexdump && !opts.show) {
          w.line(`wrote ${list.length} packet${list.length === 1 ? '' : 's'} to ${opts.pcap}${wrote}`);
        } else {
          for (const p of list) {
            if (opts.hex) w.line(p.bytes().toString('hex'));
            else if (opts.hexdump) w.line(p.hexdump());
            else if (opts.show) w.line(p.show());
            else w.line(p.summary());
          }
        }
        w.flush();
        return 0;
      }),
    );
}
