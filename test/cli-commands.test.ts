/**
 * Each command's main path, through the built program, against loopback servers made here:
 * build, send, sr1, sr, ping, probe, scan, sniff, handshake, shell and demo. Everything is sent
 * to 127.0.0.1 only. The wire commands need root and skip (with the reason) without it.
 */
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, isRoot, startSynack, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-cli-cmd-'));
let server: net.Server;
let open = 0;
let closed = 0;

beforeAll(async () => {
  ensureBuilt();
  server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (d) => {
      if (String(d).trim() === 'get') {
        s.write('200 ok');
        s.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open = (server.address() as net.AddressInfo).port;
  closed = await freePort();
}, 120_000);

afterAll(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('build (no privileges needed)', () => {
  it('prints the summary of each packet a set stands for', async () => {
    const r = await synack(['build', "IP(dst='127.0.0.1')/TCP(dport=[22,80],flags='S')"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'IP 127.0.0.1.20 > 127.0.0.1.22: Flags [S], seq 0, win 8192, length 0\nIP 127.0.0.1.20 > 127.0.0.1.80: Flags [S], seq 0, win 8192, length 0\n',
    );
  });

  it('--hex gives the bytes Scapy builds', async () => {
    const r = await synack(['build', '--hex', "IP(src='127.0.0.1',dst='127.0.0.1')/TCP(dport=80,flags='S')"]);
    // Scapy 2.5: bytes(IP(src='127.0.0.1',dst='127.0.0.1')/TCP(dport=80,flags='S')).hex()
    expect(r.stdout).toBe('450000280001000040067ccd7f0000017f00000100140050000000000000000050022000917c0000\n');
  });

  it('--show, --json, stdin and --pcap', async () => {
    const show = await synack(['build', '--show', "IP(dst='127.0.0.1')/UDP(dport=53)"]);
    expect(show.stdout).toMatch(/###\[ IP \]###/);
    expect(show.stdout).toMatch(/dport\s+= domain/);
    const json = await synack(['build', '--json'], { input: "IP(dst='127.0.0.1')/ICMP()\n# a comment\nIP(dst='127.0.0.1')/UDP()\n" });
    const parsed = JSON.parse(json.stdout) as Array<{ summary: string; hex: string; command: string }>;
    expect(parsed).toHaveLength(2);
    expect(parsed[0]!.summary).toContain('ICMP echo request');
    const pcap = join(dir, 'built.pcap');
    const w = await synack(['build', '--pcap', pcap, "IP(dst='127.0.0.1')/TCP(dport=(1,3))"]);
    expect(w.stdout).toBe(`wrote 3 packets to ${pcap}\n`);
    const back = await synack(['read', pcap]);
    expect(back.stdout.split('\n').filter(Boolean)).toHaveLength(3);
  });
});

describe.skipIf(!isRoot)('wire commands (root)', () => {
  it('send: the datagrams reach a UDP server', async () => {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const got: string[] = [];
    udp.on('message', (m) => got.push(String(m)));
    const r = await synack(['send', `IP(dst='127.0.0.1')/UDP(sport=40000,dport=${port})/b'hi'`, '-c', '3', '-i', '0.01']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Sent 3 packets.\n');
    await new Promise((res) => setTimeout(res, 100));
    udp.close();
    expect(got).toEqual(['hi', 'hi', 'hi']);
    const flood = await synack(['send', `IP(dst='127.0.0.1')/UDP(sport=40000,dport=${closed})`, '--flood', '-c', '2000']);
    expect(flood.stdout).toMatch(/^Sent 2000 packets in [\d.]+ s \(\d+ packets\/s\)\.\n$/);
  });

  it('sr1: SYN-ACK from an open port, RST from a closed one, exit 1 with no answer', async () => {
    const a = await synack(['sr1', `IP(dst='127.0.0.1')/TCP(dport=${open},flags='S')`, '--retry', '2', '--timeout', '1']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(new RegExp(`^IP 127\\.0\\.0\\.1\\.${open} > 127\\.0\\.0\\.1\\.20: Flags \\[S\\.\\], seq \\d+, ack 1, win \\d+, options \\[mss 65495\\], length 0  \\(rtt [\\d.]+ ms\\)\\n$`));
    const b = await synack(['sr1', `IP(dst='127.0.0.1')/TCP(dport=${closed},flags='S')`, '--json', '--retry', '2', '--timeout', '1']);
    expect(JSON.parse(b.stdout).reply.summary).toMatch(/Flags \[R\.\], seq 0, ack 1, win 0, length 0/);
    const c = await synack(['sr1', `IP(dst='127.0.0.1')/TCP(dport=${open},flags='S',chksum=1)`, '--timeout', '0.3']);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe('synack: no answer within 300 ms\n');
  });

  it('sr: each probe with its answer, and the tally', async () => {
    const r = await synack(['sr', `IP(dst='127.0.0.1')/TCP(sport=33333,dport=[${open},${closed}],flags='S')`, '--timeout', '1', '--retry', '2']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(r.stdout).toContain(`127.0.0.1.33333 > 127.0.0.1.${open}: Flags [S]`);
    expect(r.stdout).toMatch(/==> IP .* Flags \[S\.\]/);
    expect(r.stdout).toMatch(/==> IP .* Flags \[R\.\]/);
    expect(lines[2]).toBe('Received 2 packets, got 2 answers, remaining 0 packets');
  });

  it('ping: hping3 lines and statistics', async () => {
    const r = await synack(['ping', '127.0.0.1', '-S', '-p', String(open), '-c', '2', '-i', '0.05', '--mss', '1460']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('HPING 127.0.0.1 (lo 127.0.0.1): S set, 44 headers + 0 data bytes');
    expect(lines[1]).toMatch(new RegExp(`^len=44 ip=127\\.0\\.0\\.1 ttl=64 DF id=0 sport=${open} flags=SA seq=0 win=65495 rtt=\\d+\\.\\d ms$`));
    expect(lines[2]).toMatch(/ seq=1 /);
    expect(r.stdout).toContain(`--- 127.0.0.1 hping statistic ---\n2 packets transmitted, 2 packets received, 0% packet loss\nround-trip min/avg/max = `);
    const rst = await synack(['ping', '127.0.0.1', '-F', '-P', '-U', '-p', String(closed), '-c', '1']);
    expect(rst.stdout).toMatch(/FPU set/);
    expect(rst.stdout).toMatch(/len=40 ip=127\.0\.0\.1 ttl=64 DF id=0 sport=\d+ flags=RA seq=0 win=0 rtt=/);
    const none = await synack(['ping', '127.0.0.1', '-S', '-p', String(open), '-c', '1', '--badsum', '--timeout', '0.3']);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('1 packets transmitted, 0 packets received, 100% packet loss');
  });

  it('probe: the six probes and their meanings', async () => {
    const r = await synack(['probe', `127.0.0.1:${open}`, '--timeout', '0.5', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).probes as Array<{ probe: string; reply: string; meaning: string }>;
    expect(rows.map((x) => x.probe)).toEqual(['SYN', 'FIN', 'Null', 'Xmas', 'ACK', 'RST']);
    expect(rows[0]!.meaning).toBe('open');
    expect(rows[1]!.meaning).toMatch(/^open\|filtered/);
    expect(rows[4]!.meaning).toMatch(/^unfiltered/);
    expect(rows[5]!.reply).toBeNull();
    const c = await synack(['probe', `127.0.0.1:${closed}`, '--timeout', '0.5']);
    expect(c.stdout).toMatch(/SYN\s+\[S\]\s+\[R\.\] win 0\s+closed/);
    expect(c.stdout).toMatch(/Xmas\s+\[FPU\]\s+\[R\.\] win 0\s+closed/);
  });

  it('scan: open and closed ports, table and JSON', async () => {
    const ports = `${open},${closed},${closed + 1}-${closed + 20}`;
    const r = await synack(['scan', '127.0.0.1', '-p', ports, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { ports: Record<string, number[]> };
    expect(result.ports['open']).toContain(open);
    expect(result.ports['closed']).toContain(closed);
    const table = await synack(['scan', '127.0.0.1', '-p', `${open},${closed}`]);
    expect(table.stdout).toMatch(new RegExp(`${open}/tcp\\s+open\\s+\\S+\\s+syn-ack`));
    expect(table.stdout).toMatch(new RegExp(`${closed}/tcp\\s+closed\\s+\\S+\\s+reset`));
    expect(table.stderr).toBe(''); // no progress bar off a terminal
    const fin = await synack(['scan', '127.0.0.1', '-p', `${open},${closed}`, '--type', 'fin', '--retries', '0', '--timeout', '0.3', '--json']);
    const f = JSON.parse(fin.stdout) as { ports: Record<string, number[]> };
    expect(f.ports['open|filtered']).toEqual([open]);
    expect(f.ports['closed']).toEqual([closed]);
  });

  it('sniff: live tcpdump lines, -w and --ladder', async () => {
    const live = startSynack(['sniff', '-i', 'lo', '-c', '2', '--ladder', `tcp port ${open} and tcp[tcpflags] & tcp-syn != 0`]);
    // Its 'listening on' line, not a guess at how long start-up takes on a busy machine.
    await live.said('listening on');
    await new Promise<void>((resolve) => {
      const c = net.connect(open, '127.0.0.1', () => c.end());
      c.on('close', () => resolve());
      c.on('error', () => resolve());
    });
    const r = await live.wait();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{6} IP 127\\.0\\.0\\.1\\.\\d+ > 127\\.0\\.0\\.1\\.${open}: Flags \\[S\\], seq \\d+, win 65495, options \\[mss 65495,sackOK,TS val \\d+ ecr 0,nop,wscale \\d+\\], length 0$`, 'm'));
    expect(r.stdout).toMatch(/Flags \[S\.\]/);
    expect(r.stdout).toContain('conversation 1:');
    expect(r.stderr).toContain('listening on lo, link-type EN10MB (Ethernet)');
    expect(r.stderr).toContain('2 packets captured');
    const file = join(dir, 'sniffed.pcap');
    const w = startSynack(['sniff', '-i', 'lo', '--duration', '3', '-w', file, `tcp port ${open}`]);
    await w.said('listening on');
    await new Promise<void>((resolve) => {
      const c = net.connect(open, '127.0.0.1', () => c.end());
      c.on('close', () => resolve());
    });
    const wr = await w.wait();
    expect(wr.stdout).toBe('');
    expect(readFileSync(file).length).toBeGreaterThan(24 + 4 * 16);
  });

  it('handshake: lines with states, then the ladder', async () => {
    const r = await synack(['handshake', `127.0.0.1:${open}`, '--send', 'get', '--close', 'wait', '--isn', '1000']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`ms  IP 127\\.0\\.0\\.1\\.\\d+ > 127\\.0\\.0\\.1\\.${open}: Flags \\[S\\], seq 1000, win 64240`));
    expect(r.stdout).toContain('-> SYN-SENT');
    expect(r.stdout).toContain('-> ESTABLISHED');
    expect(r.stdout).toContain('-> CLOSE-WAIT');
    expect(r.stdout).toContain('-> LAST-ACK');
    expect(r.stdout).toContain('received "200 ok"');
    expect(r.stdout).toContain('final state CLOSED');
    // Our state on our side of the ladder.
    expect(r.stdout).toMatch(/SYN-SENT \|-+ \[S\] seq 0 -+>\|/);
    const rst = await synack(['handshake', `127.0.0.1:${open}`, '--close', 'rst', '--json']);
    const j = JSON.parse(rst.stdout) as { final_state: string; trace: Array<{ packet: { summary: string } }> };
    expect(j.final_state).toBe('CLOSED');
    expect(j.trace.at(-1)!.packet.summary).toMatch(/Flags \[R\.\]/);
  });

  it('demo: exits 0 and prints the handshake', async () => {
    const r = await synack(['demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Flags \[S\], seq \d+, win 64240/);
    expect(r.stdout).toMatch(/Flags \[S\.\]/);
    expect(r.stdout).toContain("received '200 ok'");
    expect(r.stdout).toMatch(/\|-+ \[S\] seq 0 -+>\|/);
  });
});

describe('shell', () => {
  it('evaluates piped lines with the API in scope, awaiting each', async () => {
    const r = await synack(['shell'], {
      input: "IP({dst:'127.0.0.1'}).add(TCP({dport:80})).summary()\nconst n = await Promise.resolve(41)\nn + 1\npacket(\"IP(dst='127.0.0.1')/UDP()\").command()\n",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("'IP 127.0.0.1.20 > 127.0.0.1.80: Flags [S], seq 0, win 8192, length 0'\n42\n`IP(dst='127.0.0.1')/UDP()`\n".replace(/`/g, '"'));
  });

  it('completes layer names and, inside a layer, its fields', async () => {
    const { synackCompleter } = await import('../src/cli/shell.js');
    const api = await import('../src/index.js');
    const layers = new Map(Object.entries(api).filter(([, v]) => typeof v === 'function' && (v as { isFactory?: boolean }).isFactory)) as never;
    const complete = synackCompleter(layers, undefined);
    const ask = (line: string) => new Promise<[string[], string]>((resolve) => complete(line, (_e, r) => resolve(r!)));
    expect((await ask('ICMPv6E'))[0]).toEqual(expect.arrayContaining(['ICMPv6EchoRequest', 'ICMPv6EchoReply']));
    expect(await ask("TCP({dport: 80, fl")).toEqual([['flags: '], 'fl']);
    expect((await ask('IP({'))[0]).toEqual(expect.arrayContaining(['dst: ', 'ttl: ']));
  });
});
