/**
 * Where the view says each field lies in the bytes (src/view/fields.ts, what the tree and hex
 * panes highlight), checked against tshark's own positions (PDML's pos and size per field) for
 * crafted frames: Ethernet/IPv4/TCP with options and a payload, Ethernet/IPv6/UDP, IPv4 options.
 * Also: a rendered view carries no address to fetch anything from.
 *
 * Needs: tshark (the oracle); no root, no network (files only).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ether, IP, IPv6, TCP, UDP, renderView, writePcap, type Packet } from '../src/index.js';
import { layerTree, fieldAt } from '../src/view/fields.js';
import { oracleMissing } from './helpers/oracle.js';

const why = oracleMissing('tshark', ['--version']);
const dir = mkdtempSync(join(tmpdir(), 'synack-view-fields-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FRAMES: Packet[] = [
  Ether().add(
    IP({ src: '127.0.0.1', dst: '127.0.0.2', ttl: 7, id: 4242 }),
    TCP({ sport: 40000, dport: 8080, flags: 'PA', seq: 1000, ack: 2000, urgptr: 3, options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1, 2]], ['NOP'], ['WScale', 7]] }),
    'GET / HTTP/1.1\r\n\r\n',
  ),
  Ether().add(IPv6({ src: '::1', dst: '::1', hlim: 9 }), UDP({ sport: 5353, dport: 9999 }), 'hello'),
  Ether().add(IP({ src: '127.0.0.1', dst: '127.0.0.1', options: [{ name: 'IPOption_Router_Alert' }] }), TCP({ sport: 1, dport: 2, flags: 'S' })),
];

/** tshark field name -> [our layer name, our field name]. */
const MAP: Record<string, [string, string]> = {
  'eth.dst': ['Ether', 'dst'],
  'eth.src': ['Ether', 'src'],
  'eth.type': ['Ether', 'type'],
  'ip.len': ['IP', 'len'],
  'ip.id': ['IP', 'id'],
  'ip.ttl': ['IP', 'ttl'],
  'ip.proto': ['IP', 'proto'],
  'ip.checksum': ['IP', 'chksum'],
  'ip.src': ['IP', 'src'],
  'ip.dst': ['IP', 'dst'],
  'ip.options': ['IP', 'options'],
  'ipv6.plen': ['IPv6', 'plen'],
  'ipv6.nxt': ['IPv6', 'nh'],
  'ipv6.hlim': ['IPv6', 'hlim'],
  'ipv6.src': ['IPv6', 'src'],
  'ipv6.dst': ['IPv6', 'dst'],
  'tcp.srcport': ['TCP', 'sport'],
  'tcp.dstport': ['TCP', 'dport'],
  'tcp.seq_raw': ['TCP', 'seq'],
  'tcp.ack_raw': ['TCP', 'ack'],
  'tcp.window_size_value': ['TCP', 'window'],
  'tcp.checksum': ['TCP', 'chksum'],
  'tcp.urgent_pointer': ['TCP', 'urgptr'],
  'tcp.options': ['TCP', 'options'],
  'udp.srcport': ['UDP', 'sport'],
  'udp.dstport': ['UDP', 'dport'],
  'udp.length': ['UDP', 'len'],
  'udp.checksum': ['UDP', 'chksum'],
};

describe.skipIf(why)('the view locates every field where tshark does', () => {
  it('for each crafted frame, each mapped field has tshark\'s position and size', () => {
    const file = join(dir, 'fields.pcap');
    const w = writePcap(file);
    for (const p of FRAMES) w.write(p);
    w.close();
    const pdml = spawnSync('tshark', ['-r', file, '-T', 'pdml'], { encoding: 'utf8', timeout: 60_000 }).stdout;
    const packets = pdml.split('<packet>').slice(1);
    expect(packets.length).toBe(FRAMES.length);
    let compared = 0;
    packets.forEach((text, k) => {
      const tree = layerTree(FRAMES[k]!.bytes(), 1);
      const find = (layer: string, field: string) => tree.find((l) => l.layerName === layer)?.fields.find((f) => f.name === field);
      for (const m of text.matchAll(/<field name="([^"]+)"[^>]*? size="(\d+)" pos="(\d+)"/g)) {
        const ours = MAP[m[1]!];
        if (!ours) continue;
        const f = find(ours[0], ours[1]);
        expect(f, `${m[1]} in frame ${k + 1}`).toBeDefined();
        expect([f!.start, f!.end], `${m[1]} in frame ${k + 1}`).toEqual([Number(m[3]), Number(m[3]) + Number(m[2])]);
        compared++;
      }
      // The payload is a Raw layer spanning what tshark calls data.
      const data = /<field name="data" [^>]*? size="(\d+)" pos="(\d+)"/.exec(text);
      if (data) {
        const raw = tree.find((l) => l.layerName === 'Raw')!;
        expect([raw.start, raw.headerEnd]).toEqual([Number(data[2]), Number(data[2]) + Number(data[1])]);
      }
    });
    expect(compared).toBeGreaterThanOrEqual(40);
  });

  it('a byte selects the deepest layer holding it, and the field there', () => {
    const tree = layerTree(FRAMES[0]!.bytes(), 1);
    const tcp = tree.findIndex((l) => l.layerName === 'TCP');
    const at = fieldAt(tree, tree[tcp]!.start + 2)!;
    expect(tree[at.layer]!.fields[at.field]!.name).toBe('dport');
    const load = fieldAt(tree, tree.at(-1)!.start)!;
    expect(tree[load.layer]!.layerName).toBe('Raw');
  });

  it('renderView writes a page that names no address to fetch from', () => {
    const html = renderView(FRAMES, { title: 'crafted' });
    expect(html).toContain(`content="default-src 'none';`);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)[a-z0-9.-]+\//i);
  });
});
