/**
 * TCP options between the script's spelling (packetdrill's: `mss 1460`, `sackOK`,
 * `TS val 100 ecr 0`, `nop`, `wscale 7`, `sack 1:2 3:4`, `eol`, `kind 30 0x0102`) and the
 * layer's [name, value] tuples.
 */
import { tcpOptionsLength, writeTCPOptions, type TCPOption } from '../layers/tcp-options.js';
import type { ScriptOption } from './ast.js';

export function toTCPOption(o: ScriptOption): TCPOption {
  switch (o.kind) {
    case 'mss':
      return ['MSS', o.value];
    case 'wscale':
      return ['WScale', o.value];
    case 'sackOK':
      return ['SAckOK'];
    case 'sack':
      return ['SAck', o.blocks.flat()];
    case 'TS':
      return ['Timestamp', [o.val >>> 0, o.ecr >>> 0]];
    case 'nop':
      return ['NOP'];
    case 'eol':
      return ['EOL'];
    case 'FO':
      return [TCPOPT_FASTOPEN, o.cookie];
    case 'FOEXP':
      return [TCPOPT_EXP, Buffer.concat([FASTOPEN_MAGIC, o.cookie])];
    case 'md5':
      return [TCPOPT_MD5SIG, o.digest];
    case 'raw':
      return [o.code, o.data];
  }
}

const TCPOPT_MD5SIG = 19;
const TCPOPT_FASTOPEN = 34;
const TCPOPT_EXP = 254;
/** RFC 7413's experimental option carries this magic before the cookie. */
const FASTOPEN_MAGIC = Buffer.from([0xf9, 0x89]);

/** Kinds the script names (FO, FOEXP, md5) from their code and value bytes. */
function namedRaw(code: number, data: Buffer): ScriptOption {
  if (code === TCPOPT_FASTOPEN) return { kind: 'FO', cookie: data };
  if (code === TCPOPT_EXP && data.length >= 2 && data.subarray(0, 2).equals(FASTOPEN_MAGIC)) return { kind: 'FOEXP', cookie: Buffer.from(data.subarray(2)) };
  if (code === TCPOPT_MD5SIG) return { kind: 'md5', digest: data };
  return { kind: 'raw', code, data };
}

/** A dissected option in the script's terms; anything without a script name becomes `kind N 0x..`. */
export function fromTCPOption(opt: TCPOption): ScriptOption {
  const [name, value] = opt as readonly [unknown, unknown];
  if (name === 'MSS' && typeof value === 'number') return { kind: 'mss', value };
  if (name === 'WScale' && typeof value === 'number') return { kind: 'wscale', value };
  if (name === 'SAckOK' && (value === undefined || value === null || (Buffer.isBuffer(value) && value.length === 0))) return { kind: 'sackOK' };
  if (name === 'NOP' || name === 1) return { kind: 'nop' };
  if (name === 'EOL' || name === 0) return { kind: 'eol' };
  if (name === 'Timestamp' && Array.isArray(value)) return { kind: 'TS', val: value[0] as number, ecr: value[1] as number };
  if (name === 'SAck' && Array.isArray(value) && value.length % 2 === 0 && value.length > 0) {
    const blocks: Array<[number, number]> = [];
    for (let i = 0; i < value.length; i += 2) blocks.push([value[i] as number, value[i + 1] as number]);
    return { kind: 'sack', blocks };
  }
  if (name === 'bytes' && Buffer.isBuffer(value)) return namedRaw(value[0] ?? 0, value.subarray(Math.min(2, value.length)));
  // Encode it to learn its kind and value bytes, whatever shape the tuple has.
  const size = tcpOptionsLength([opt]);
  const buf = Buffer.alloc(size);
  writeTCPOptions([opt], buf, 0, size);
  return namedRaw(buf[0] ?? 0, Buffer.from(buf.subarray(Math.min(2, size))));
}

export function formatOption(o: ScriptOption): string {
  switch (o.kind) {
    case 'mss':
      return `mss ${o.value}`;
    case 'wscale':
      return `wscale ${o.value}`;
    case 'sackOK':
      return 'sackOK';
    case 'sack':
      return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
    case 'TS':
      return `TS val ${o.val} ecr ${o.ecr}`;
    case 'nop':
      return 'nop';
    case 'eol':
      return 'eol';
    case 'FO':
    case 'FOEXP':
      return o.cookie.length ? `${o.kind} ${o.cookie.toString('hex')}` : o.kind;
    case 'md5':
      return `md5 ${o.digest.toString('hex')}`;
    case 'raw':
      return o.data.length ? `kind ${o.code} 0x${o.data.toString('hex')}` : `kind ${o.code}`;
  }
}

export function formatOptions(options: readonly ScriptOption[] | 'any' | undefined): string {
  if (options === undefined) return '';
  if (options === 'any') return '<...>';
  return `<${options.map(formatOption).join(',')}>`;
}
