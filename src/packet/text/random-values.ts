/**
 * Scapy's random number values in the text form: RandByte(), RandShort(), RandInt() and
 * RandNum(min, max) as a field's value. Scapy's are volatile (a new number at every build);
 * here the number is drawn once, when the expression is read, as fuzz() draws its values: read
 * the expression again for another, or give a set (dport=(1, 1024)) for many packets.
 */
import type { FieldSpec } from '../../layers/field.js';
import { fieldBits } from '../../layers/field.js';
import { clip, textError } from './lexer.js';
import type { Node } from './parser.js';

const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  RandByte: [0, 0xff],
  RandShort: [0, 0xffff],
  RandInt: [0, 0xffffffff],
};

export function isRandomValue(node: Node): node is Node & { type: 'call' } {
  return node.type === 'call' && (node.name in RANGES || node.name === 'RandNum');
}

/** The number a Rand...() call stands for in `spec`'s field, checked to fit it. */
export function randomValue(node: Node & { type: 'call' }, spec: FieldSpec, where: string): number {
  if (spec.kind !== 'int' && spec.kind !== 'flags') throw textError(node.column, `${where} takes ${spec.kind === 'bytes' ? 'bytes' : 'a value'}, not ${clip(node.name)}(): random values go in number fields`);
  if (node.kwargs.length > 0) throw textError(node.kwargs[0]!.column, `${clip(node.name)}() takes no named values`);
  let range = RANGES[node.name];
  if (node.name === 'RandNum') {
    const [min, max] = node.args;
    if (node.args.length !== 2 || min?.type !== 'int' || max?.type !== 'int' || min.value > max.value) {
      throw textError(node.column, 'RandNum takes two numbers, the smallest and the largest: RandNum(1024, 65535)');
    }
    range = [min.value, max.value];
  } else if (node.args.length > 0) {
    throw textError(node.args[0]!.column, `${node.name}() takes no values`);
  }
  const [low, high] = range!;
  const bits = fieldBits(spec) ?? 32;
  const most = bits >= 32 ? 0xffffffff : 2 ** bits - 1;
  if (low < 0 || high > most) throw textError(node.column, `${where} is ${bits} bits (0 to ${most}): ${node.name}() draws up to ${high}; use ${bits <= 8 ? 'RandByte()' : `RandNum(0, ${most})`}`);
  return low + Math.floor(Math.random() * (high - low + 1));
}
