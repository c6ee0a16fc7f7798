/**
 * Issue 11's command-line items, through the real program against real servers on 127.0.0.1:
 * handshake (closed port, the whole reply, escapes, a simultaneous close that does not happen,
 * Ctrl-C), ladders (each side's state on its own side, aligned columns, marked pauses, SVG
 * styling and tooltips), serve and demo.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP, TCP, Raw, renderLadder, renderLadderSvg, type LadderEntry } from '../src/index.js';
import { ensureBuilt, freePort, isRoot, serveTcp, startSynack, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-first-hour-'));
const servers: net.Server[] = [];
let closed = 0;
/** Answers with headers, then (50 ms later) a body and its FIN; records what it received. */
let http = 0;
const httpReceived: Buffer[] = [];
/** Accepts and never answers nor closes. */
let silent = 0;
/** Answers 'get' with '200 ok' and never closes (half-open allowed). */
let lingering = 0;
/** Answers 'get' with '200 ok' and closes 200 ms after the client's FIN. */
let closesLater = 0;

function serve(handler: (s: net.Socket) => void, options: net.ServerOpts = {}): Promise<number> {
  return serveTcp(servers, handler, options);
}

beforeAll(async () => {
  ensureBuilt();
  closed = await freePort();
  http = await serve((s) => {
    s.once('data', (d) => {
      httpReceived.push(d);
      s.write('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n');
      setTimeout(() => s.end('hello'), 50);
    });
  });
  silent = await serve(() => undefined);
  lingering = await serve((s) => s.on('data', () => s.write('200 ok')), { allowHalfOpen: true });
  closesLater = await serve(
    (s) => {
      s.on('data', () => s.write('200 ok'));
      s.on('end', () => setTimeout(() => s.end(), 200));
    },
    { allowHalfOpen: true },
  );
}, 120_000);

afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('handshake (root)', () => {
  it('against a closed port: the SYN and the RST, the ladder, exit 1', async () => {
    const r = await synack(['handshake', `127.0.0.1:${closed}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`synack: connection refused: 127.0.0.1.${closed} answered the SYN with RST\n`);
    expect(r.stdout).toMatch(new RegExp(`ms  IP 127\\.0\\.0\\.1\\.(\\d+) > 127\\.0\\.0\\.1\\.${closed}: Flags \\[S\\], seq \\d+, win 64240`));
    expect(r.stdout).toMatch(new RegExp(`ms  IP 127\\.0\\.0\\.1\\.${closed} > 127\\.0\\.0\\.1\\.\\d+: Flags \\[R\\.\\], seq 0, ack \\d+, win 0, length 0`));
    expect(r.stdout).toContain('final state CLOSED');
    // The header names both hosts; our state stands on our side, left of the left bar.
    expect(r.stdout).toMatch(new RegExp(` us 127\\.0\\.0\\.1\\.\\d+ +peer 127\\.0\\.0\\.1\\.${closed}\\n`));
    expect(r.stdout).toMatch(/ms +SYN-SENT \|-+ \[S\] seq 0 -+>\|\n/);
    expect(r.stdout).toMatch(/ms +CLOSED \|<-+ \[R\.\] seq 0 ack 1 -+\|\n/);
  });

  it('against a closed port with --json: the exchange in the packet schema, exit 1', async () => {
    const r = await synack(['handshake', `127.0.0.1:${closed}`, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as {
      final_state: string;
      error: string;
      reply: null;
      trace: Array<{ direction: string; state: string; packet: { summary: string; time: number; layers: Array<{ name: string; fields: Record<string, unknown> }> } }>;
    };
    expect(j.final_state).toBe('CLOSED');
    expect(j.reply).toBeNull();
    expect(j.error).toContain('connection refused');
    expect(j.trace.map((e) => [e.direction, e.state])).toEqual([
      ['out', 'SYN-SENT'],
      ['in', 'CLOSED'],
    ]);
    const [syn, rst] = j.trace;
    expect(syn!.packet.layers.map((l) => l.name)).toEqual(['IP', 'TCP']);
    expect(syn!.packet.layers[1]!.fields).toMatchObject({ dport: closed, flags: 2, window: 64240 });
    // Computed fields are given with their values on the wire.
    expect(syn!.packet.layers[0]!.fields).toMatchObject({ version: 4, ihl: 5, proto: 6, dst: '127.0.0.1' });
    expect(typeof syn!.packet.layers[0]!.fields.chksum).toBe('number');
    expect(rst!.packet.summary).toMatch(/Flags \[R\.\], seq 0, ack \d+, win 0, length 0$/);
    expect(rst!.packet.layers.at(-1)!.fields).toMatchObject({ sport: closed, flags: 0x14 });
    expect(rst!.packet.time).toBeGreaterThan(1.7e9);
  });

  it('--send takes escapes and shows the whole reply, body and FIN included', async () => {
    httpReceived.length = 0;
    const r = await synack(['handshake', `127.0.0.1:${http}`, '--send', 'GET / HTTP/1.0\\r\\n\\x41\\r\\n', '--close', 'wait']);
    expect(r.code, r.stderr).toBe(0);
    expect(httpReceived.map(String)).toEqual(['GET / HTTP/1.0\r\nA\r\n']);
    expect(r.stdout).toContain(`received ${JSON.stringify('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello')}`);
    expect(r.stdout).toContain('final state CLOSED');
  });

  it('--close simultaneous against a peer that does not close at once says what happened', async () => {
    const later = await synack(['handshake', `127.0.0.1:${closesLater}`, '--send', 'get', '--close', 'simultaneous']);
    expect(later.code).toBe(1);
    expect(later.stderr).toBe('synack: not a simultaneous close: the peer did not close at once, it acknowledged our FIN first and closed later (SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT)\n');
    expect(later.stdout).not.toContain('CLOSING');
    const never = await synack(['handshake', `127.0.0.1:${lingering}`, '--send', 'get', '--close', 'simultaneous', '--timeout', '0.5']);
    expect(never.code).toBe(1);
    expect(never.stderr).toMatch(/^synack: not a simultaneous close: the peer did not close at once, it acknowledged our FIN and had not closed after 0\.5 s/);
    expect(never.stdout).toContain('final state FIN-WAIT-2');
  });

  it('prints lines as they happen, and what happened so far on Ctrl-C', async () => {
    const run = startSynack(['handshake', `127.0.0.1:${silent}`, '--send', 'hello', '--timeout', '20']);
    // The handshake's lines are out before the (never coming) answer.
    await run.said('length 5');
    run.kill('SIGINT');
    const r = await run.wait();
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(r.stdout).toMatch(/Flags \[S\.\]/);
    expect(r.stdout).toMatch(/Flags \[P\.\], seq 1:6, ack 1, .*length 5/);
    expect(r.stdout).toMatch(/\[P\.\] seq 1:6 ack 1 len 5/);
  }, 20_000);
});

/** A segment for ladder tests: built, not sent. */
function segment(flags: string, direction: 'out' | 'in', time: number, state: string, data?: string): LadderEntry {
  const [sport, dport] = direction === 'out' ? [40000, 80] : [80, 40000];
  let p = IP({ src: '127.0.0.1', dst: '127.0.0.1' }).add(TCP({ sport, dport, flags, seq: direction === 'out' ? 1000 : 5000, ack: flags.includes('A') ? 1 : 0 }));
  if (data) p = p.add(Raw({ load: data }));
  return { direction, time, packet: p, state, peerState: direction === 'out' ? 'SYN-RECEIVED' : undefined };
}

describe('ladders', () => {
  const entries: LadderEntry[] = [
    segment('S', 'out', 0.01, 'SYN-SENT'),
    segment('SA', 'in', 0.25, 'ESTABLISHED'),
    segment('PA', 'out', 1.5, 'ESTABLISHED', 'get'),
    { ...segment('FA', 'in', 2501.75, 'CLOSE-WAIT'), mark: 'retransmission' },
    segment('R', 'out', 12345.5, 'CLOSED'),
  ];

  it('terminal: columns aligned whatever the time width, each state on its side, pauses marked', () => {
    const text = renderLadder(entries, { left: 'us 127.0.0.1.40000', right: 'peer 127.0.0.1.80' });
    const rows = text.split('\n');
    const bars = rows.filter((r) => r.includes('|')).map((r) => [r.indexOf('|'), r.lastIndexOf('|')]);
    expect(new Set(bars.map((b) => b.join(','))).size).toBe(1);
    expect(rows[0]!.indexOf('us 127.0.0.1.40000') + 'us 127.0.0.1.40000'.length).toBe(bars[0]![0]! - 1);
    expect(rows[0]!.indexOf('peer 127.0.0.1.80')).toBe(bars[0]![1]! + 2);
    expect(text).toMatch(/^ +0\.010 ms +SYN-SENT \|/m);
    expect(text).toMatch(/^12345\.500 ms +CLOSED \|/m);
    // The peer's state on the peer's side, the mark after it.
    expect(text).toMatch(/>\|  SYN-RECEIVED$/m);
    expect(text).toMatch(/CLOSE-WAIT \|<.*\|  \[retransmission\]$/m);
    expect(text).toMatch(/^ +: +2\.500 s later +:$/m);
    expect(text).toMatch(/^ +: +9\.844 s later +:$/m);
    expect(text).not.toMatch(/1\.2\d\d ms later/);
  });

  it('SVG: a background, segments styled by kind, the tcpdump line as tooltip, pauses marked', () => {
    const svg = renderLadderSvg(entries, { left: 'us', right: 'peer' });
    expect(svg).toMatch(/<rect x="0" y="0" width="\d+" height="\d+" fill="#ffffff"\/>/);
    for (const kind of ['syn', 'data', 'fin', 'rst']) expect(svg).toContain(`<g class="segment ${kind}">`);
    expect(svg).toContain('<title>IP 127.0.0.1.40000 &gt; 127.0.0.1.80: Flags [S], seq 1000, win 8192, length 0</title>');
    expect(svg).toContain('2.500 s later');
    expect(svg).toContain('>retransmission</text>');
    // Our state left of our line, the peer's right of its line.
    const left = /<line x1="(\d+)" y1="36"/.exec(svg)![1];
    expect(svg).toContain(`<text class="state" x="${Number(left) - 10}" y="`);
    expect(svg).toMatch(/text-anchor="end">SYN-SENT<\/text>/);
  });
});

describe('serve and demo', () => {
  it('demo --list names every seed scenario', async () => {
    const r = await synack(['demo', '--list']);
    expect(r.code).toBe(0);
    const names = r.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]);
    expect(names).toEqual(['three-packet-close', 'four-packet-close', 'client-closes-first', 'simultaneous-close', 'close-wait', 'time-wait', 'closed-port', 'bound-not-listening', 'full-backlog', 'listen']);
    const bad = await synack(['demo', 'simultaneous']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("synack: no scenario 'simultaneous' (did you mean 'simultaneous-close'?); synack demo --list names them\n");
  });

  it.skipIf(!isRoot)('demo SCENARIO runs it: relative sequence numbers, the states, every ladder as SVG', async () => {
    const sim = await synack(['demo', 'simultaneous-close'], { timeoutMs: 30_000 });
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdout).toContain('CLOSING');
    expect(sim.stdout).toMatch(/Flags \[\.\], ack 1, win \d+/);
    const rst = await synack(['demo', 'bound-not-listening']);
    expect(rst.code, rst.stderr).toBe(0);
    expect(rst.stdout).toMatch(/Flags \[R\.\], seq 0, ack \d+, win 0, length 0/);
    const svg = join(dir, 'backlog.svg');
    const full = await synack(['demo', 'full-backlog', '--svg', svg], { timeoutMs: 40_000 });
    expect(full.code, full.stderr).toBe(0);
    const written = [1, 2, 3, 4].map((i) => join(dir, `backlog-${i}.svg`)).filter((p) => existsSync(p));
    expect(written.length).toBeGreaterThanOrEqual(2);
    for (const p of written) expect(readFileSync(p, 'utf8')).toMatch(/^<svg /);
  }, 90_000);

  it('serve get-close answers get with 200 ok and closes; Ctrl-C stops it', async () => {
    const port = await freePort();
    const run = startSynack(['serve', 'get-close', '--port', String(port)]);
    await run.said(`ready get ${port}`);
    const answer = await new Promise<string>((resolve) => {
      let got = '';
      const c = net.connect(port, '127.0.0.1', () => c.write('get'));
      c.on('data', (d) => (got += String(d)));
      c.on('close', () => resolve(got));
      c.on('error', () => resolve(got));
    });
    expect(answer).toBe('200 ok');
    await run.said('closed 127.0.0.1');
    run.kill('SIGINT');
    const r = await run.wait();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('data "get"');
    const refused = await synack(['serve', 'get', '--port', '7000', '--address', '198.51.100.1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('serve listens on loopback only');
  }, 20_000);
});

describe('consistency: -i and -I, IPv6 ping, one JSON schema', () => {
  it('send -i lo asks whether -I was meant; sniff -I lo whether -i was', async () => {
    const send = await synack(['send', "IP(dst='127.0.0.1')/UDP()", '-i', 'lo']);
    expect(send.code).toBe(2);
    expect(send.stderr).toContain("-i is the interval here (as hping3); 'lo' is an interface: did you mean -I lo?");
    expect(send.stderr.trim().split('\n')).toHaveLength(1);
    const sniffed = await synack(['sniff', '-I', 'lo']);
    expect(sniffed.code).toBe(2);
    expect(sniffed.stderr).toBe("synack: sniff takes the interface as -i, as tcpdump does (-I is hping3's): did you mean -i lo?\n");
    const help = await synack(['ping', '--help']);
    expect(help.stdout).toMatch(/-I, --iface <name>/);
    expect(help.stdout).toMatch(/-i, --interval <time>/);
  });

  it.skipIf(!isRoot)('ping ::1 probes over IPv6; -I picks the interface; replies carry rtt_ms', async () => {
    const r = await synack(['ping', '::1', '-S', '-p', String(closed), '-c', '2', '-i', '0.1', '-I', 'lo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^HPING ::1 \(lo ::1\): S set, 60 headers \+ 0 data bytes$/m);
    expect(r.stdout).toMatch(new RegExp(`^len=60 ip=::1 ttl=64 id=0 sport=${closed} flags=RA seq=0 win=0 rtt=\\d+\\.\\d ms$`, 'm'));
    const j = await synack(['ping', '127.0.0.1', '-S', '-p', String(closed), '-c', '1', '--json']);
    const parsed = JSON.parse(j.stdout) as { replies: Array<Record<string, unknown>>; rtt_ms: { min: number } };
    expect(parsed.replies[0]).toHaveProperty('rtt_ms');
    expect(parsed.replies[0]).not.toHaveProperty('rtt');
  });

  it.skipIf(!isRoot)('sr1, sr and probe --json: packets as {time, summary, layers}, no reply as null', async () => {
    const one = JSON.parse((await synack(['sr1', `IP(dst='127.0.0.1')/TCP(dport=${closed},flags='S')`, '--json'])).stdout) as Record<string, any>;
    expect(one.reply.summary).toMatch(/Flags \[R\.\]/);
    expect(one.reply.layers.map((l: { name: string }) => l.name)).toEqual(['IP', 'TCP']);
    expect(one.sent.layers[1].fields).toMatchObject({ dport: closed, flags: 2 });
    expect(typeof one.rtt_ms).toBe('number');
    const none = await synack(['sr1', "IP(dst='127.0.0.1')/TCP(dport=80,flags='S',chksum=1)", '--json', '--timeout', '0.3']);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toMatchObject({ reply: null, rtt_ms: null });
    const many = JSON.parse((await synack(['sr', `IP(dst='127.0.0.1')/TCP(dport=${closed},flags='S')`, '--json', '--timeout', '0.5'])).stdout) as Record<string, any>;
    expect(many.answered[0].reply.layers[1].fields.flags).toBe(0x14);
    const probe = JSON.parse((await synack(['probe', `127.0.0.1:${closed}`, '--json', '--timeout', '0.3'])).stdout) as { probes: Array<Record<string, any>> };
    const rst = probe.probes.find((p) => p.probe === 'RST')!;
    expect(rst.reply).toBeNull();
    expect(rst.rtt_ms).toBeNull();
    expect(probe.probes.find((p) => p.probe === 'SYN')!.reply.layers.at(-1).fields.flags).toBe(0x14);
  });
});

