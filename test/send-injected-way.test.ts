/**
 * send()'s injected way (src/sr/injected-way.ts), against the kernel, between two namespaces
 * joined by veth: a long flood leaves by injection after its first pass and every SYN reaches
 * the target's TCP; every condition that would make the injected frame differ from the raw
 * socket's, or that injection cannot honour, keeps the raw socket.
 *
 * Which way a flood took is read from the sender's namespace: a raw socket's packet goes
 * through IP output (Ip OutTransmits counts it), an injected frame does not. What arrived is
 * read from the target's: one RST per SYN to a closed port (Tcp OutRsts), and its InSegs.
 * Root only; the namespaces are removed in afterAll.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP, IPv6, Raw, TCP } from '../src/index.js';
import { createNetnsPair, isRoot, type NetnsPair } from './helpers/netns.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'helpers', 'send-child.ts');
const CLOSED = 61000;
const N = 50_000;

describe.skipIf(!isRoot())('send() by injection over veth', () => {
  let pair: NetnsPair;
  let macA = '';
  let macB = '';
  beforeAll(() => {
    pair = createNetnsPair('inj');
    const mac = (ns: string, dev: string): string =>
      (JSON.parse(pair.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as Array<{ address: string }>)[0]!.address;
    macA = mac(pair.a, 'veth-sa');
    macB = mac(pair.b, 'veth-sb');
  });
  afterAll(() => pair?.remove());

  const counter = (ns: string, proto: 'Ip' | 'Tcp', field: string): number => {
    const lines = pair.exec(ns, ['cat', '/proc/net/snmp']).split('\n').filter((l) => l.startsWith(`${proto}:`));
    return Number(lines[1]!.split(/\s+/)[lines[0]!.split(/\s+/).indexOf(field)]);
  };
  const child = (args: string[]): unknown => JSON.parse(pair.exec(pair.a, [process.execPath, '--import', 'tsx', CHILD, ...args]).trim().split('\n').pop()!);

  /** Floods `count` copies of `bytes` from A; what left by IP output in A and what B's TCP counted. */
  function flood(bytes: Buffer, count: number, iface?: string): { sent: number; ipOut: number; rsts: number; inSegs: number } {
    const out0 = counter(pair.a, 'Ip', 'OutTransmits');
    const rsts0 = counter(pair.b, 'Tcp', 'OutRsts');
    const in0 = counter(pair.b, 'Tcp', 'InSegs');
    const { sent } = child(['flood', bytes.toString('hex'), String(count), iface ?? '']) as { sent: number };
    return {
      sent,
      ipOut: counter(pair.a, 'Ip', 'OutTransmits') - out0,
      rsts: counter(pair.b, 'Tcp', 'OutRsts') - rsts0,
      inSegs: counter(pair.b, 'Tcp', 'InSegs') - in0,
    };
  }

  const syn = (fields: Record<string, unknown> = {}, dst = '198.51.100.2'): Buffer =>
    IP({ src: '198.51.100.1', dst, ...fields }).add(TCP({ sport: 40000, dport: CLOSED, flags: 'S' })).bytes();

  it('a long flood leaves by injection after one packet by raw socket, and the target counts every SYN', () => {
    const r = flood(syn(), N);
    expect(r.sent).toBe(N);
    // The first pass (one packet) by raw socket; the other N-1 skipped IP output.
    expect(r.ipOut).toBe(1);
    expect(r.rsts).toBe(N);
    expect(r.inSegs).toBe(N);
  });

  it('the frame is the raw socket packet behind the two MACs of the veth', () => {
    const bytes = syn();
    const [way] = child(['way', JSON.stringify([{ hex: bytes.toString('hex'), passes: 4095 }])]) as [{ iface: string; frames: string[] }];
    expect(way.iface).toBe('veth-sa');
    expect(way.frames).toEqual([macB.replace(/:/g, '') + macA.replace(/:/g, '') + '0800' + bytes.toString('hex')]);
  });

  it('every condition it cannot honour keeps the raw socket, with its reason', () => {
    const cases: Array<[string, Buffer, number, string?]> = [
      ['fewer than 1024', syn(), 1023],
      ['is IPv6', IPv6({ src: '2001:db8::1', dst: '2001:db8::2' }).add(TCP({ dport: CLOSED })).bytes(), 5000],
      ['an address of this host', syn({}, '198.51.100.1'), 5000],
      ['an address of this host', syn({ src: '127.0.0.1' }, '127.0.0.1'), 5000],
      ['not the interface', syn(), 5000, 'lo'],
      ['not known', syn({}, '198.51.100.77'), 5000],
      ['id 0', syn({ id: 0 }), 5000],
      ['source 0.0.0.0', syn({ src: '0.0.0.0' }), 5000],
      ['wrong header checksum', syn({ chksum: 0x1234 }), 5000],
      ['total length', syn({ len: 60 }), 5000],
      ["longer than veth-sa's MTU of 1500", IP({ src: '198.51.100.1', dst: '198.51.100.2' }).add(TCP({ dport: CLOSED })).add(Raw({ load: Buffer.alloc(1500) })).bytes(), 5000],
    ];
    const answers = child(['way', JSON.stringify(cases.map(([, b, passes, iface]) => ({ hex: b.toString('hex'), passes, iface })))]) as unknown[];
    cases.forEach(([why], i) => {
      expect(typeof answers[i], `${why}: ${JSON.stringify(answers[i])}`).toBe('string');
      expect(answers[i]).toContain(why);
    });
  });

  it('a netfilter output chain, or an id of 0, keeps the whole flood on the raw socket; the target still counts every SYN', () => {
    const id0 = flood(syn({ id: 0 }), 5000);
    expect(id0).toEqual({ sent: 5000, ipOut: 5000, rsts: 5000, inSegs: 5000 });
    pair.exec(pair.a, ['nft', 'add table ip probe; add chain ip probe out { type filter hook output priority 0; policy accept; }']);
    try {
      const [why] = child(['way', JSON.stringify([{ hex: syn().toString('hex'), passes: 5000 }])]) as [string];
      expect(why).toContain('the chain ip probe out');
      expect(flood(syn(), 5000)).toEqual({ sent: 5000, ipOut: 5000, rsts: 5000, inSegs: 5000 });
    } finally {
      pair.exec(pair.a, ['nft', 'delete table ip probe']);
    }
    // And without it, injection again.
    expect(flood(syn(), 5000).ipOut).toBe(1);
  });
});
