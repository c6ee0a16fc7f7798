/**
 * tcpdump's display flags, shared by `synack read` and `synack sniff` so both take them the same
 * way: -v/-vv, -e, -x/-xx, -X/-XX, -A/-AA, -S, -q, and -t to -ttttt. Each letter counts as in
 * tcpdump (repeat it for more), and the counts become the printer's options here, in one place.
 */
import type { Command } from 'commander';
import { timestampStyleFor, type PrinterOptions } from '../show/printer.js';
import { usageError } from '../wire/errors.js';

/** What commander hands the action for the flags below. */
export interface DisplayFlags {
  verbose?: number;
  link?: boolean;
  hex?: number;
  X?: number;
  A?: number;
  t?: number;
  absolute?: boolean;
  quiet?: boolean;
}

const increase = (_: string, previous: number): number => previous + 1;

/** Adds the flags to a command (help lines in tcpdump's words). */
export function addDisplayOptions(command: Command): Command {
  return command
    .option('-v, --verbose', 'more detail, as tcpdump -v (repeat: -vv)', increase, 0)
    .option('-e, --link', 'print the link-layer header (tcpdump -e)')
    .option('-x, --hex', 'hex of each packet from the network layer; -xx from the link layer', increase, 0)
    .option('-X', 'hex and ASCII of each packet from the network layer (tcpdump -X); -XX from the link layer', increase, 0)
    .option('-A', 'each packet as text from the network layer (tcpdump -A); -AA from the link layer', increase, 0)
    .option('-S, --absolute', 'absolute TCP sequence numbers (tcpdump -S)')
    .option('-q, --quiet', "tcpdump's quick output: less protocol detail ('tcp 0', 'UDP, length 5')")
    .option('-t', 'no time stamp (tcpdump -t); -tt seconds since 1970, -ttt since the previous packet, -tttt with the date, -ttttt since the first packet', increase, 0);
}

/** The printer's options for the flags; a usage error for -tttttt, as tcpdump refuses it. */
export function printerOptionsFor(flags: DisplayFlags): PrinterOptions {
  const timestamps = timestampStyleFor(flags.t ?? 0);
  if (timestamps === undefined) throw usageError('only -t, -tt, -ttt, -tttt and -ttttt are supported (as tcpdump)');
  const x = flags.hex ?? 0;
  const X = flags.X ?? 0;
  const A = flags.A ?? 0;
  return {
    verbose: flags.verbose ?? 0,
    link: flags.link ?? false,
    absolute: flags.absolute ?? false,
    quiet: flags.quiet ?? false,
    // tcpdump: -X wins over -x, and either over -A.
    hex: X > 0 ? (X > 1 ? 'XX' : 'X') : x > 0 ? (x > 1 ? 'xx' : 'x') : undefined,
    ascii: A > 0 ? (A > 1 ? 'AA' : 'A') : undefined,
    timestamps,
  };
}
