/**
 * The text form of a packet, Scapy's expression syntax: packet("IP(dst='127.0.0.1')/TCP(dport=80)")
 * parses it (a tokenizer and a recursive-descent parser, never eval), and importing this module
 * installs p.command(), which writes a packet back in the same syntax.
 */
import { Packet } from '../packet.js';
import { usageError } from '../../wire/errors.js';
import { parseExpression } from './parser.js';
import { layersOf, newBudget } from './values.js';
import './command.js';

/**
 * A packet from its text form. Mistakes are usage errors that name the column and, for
 * unknown layers and fields, the nearest valid name.
 */
export function packet(expression: string): Packet {
  if (typeof expression !== 'string') throw usageError(`packet() takes the text form as a string, not ${typeof expression}`);
  const budget = newBudget();
  return new Packet(parseExpression(expression).flatMap((node) => layersOf(node, budget)));
}

export { packetCommand, layerCommand } from './command.js';
