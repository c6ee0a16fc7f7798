/**
 * The text form of a packet, Scapy's expression syntax: packet("IP(dst='127.0.0.1')/TCP(dport=80)")
 * parses it (a tokenizer and a recursive-descent parser, never eval), and importing this module
 * installs p.command(), which writes a packet back in the same syntax.
 */
import { Packet } from '../packet.js';
import { parseExpression } from './parser.js';
import { layersOf } from './values.js';
import './command.js';

/**
 * A packet from its text form. Mistakes are usage errors that name the column and, for
 * unknown layers and fields, the nearest valid name.
 */
export function packet(expression: string): Packet {
  return new Packet(parseExpression(expression).flatMap(layersOf));
}

export { packetCommand, layerCommand } from './command.js';
