/**
 * The exercises of docs/exercises/, run as the learner would, in one routed lab
 * (client - router - server, plus a second pair of targets), each asserting what the
 * exercise says the learner should see. Root only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAddress, labDown, labExec, labRun, labServe, labUp, type Target } from '../src/lab/index.js';

const root = process.getuid?.() === 0;
if (!root) console.log('lab exercise tests skipped: they need root (network namespaces, raw sockets)');
const lab = `lx${process.pid % 10000}`;

type Segments = Array<[string, number]>;
interface HandshakeResult {
  reply: string | null;
  segments: Segments;
  state: string;
}

describe.skipIf(!root)('lab exercises', () => {
  let server = '';
  const targets: Record<string, Target> = {};
  const run = async <T>(host: string, script: string, args: string[]): Promise<T> => {
    const r = await labRun(host, script, args, { lab, timeout: 20_000 });
    if (r.code !== 0 || r.result === undefined) throw new Error(`${script} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.result as T;
  };
  const flags = (s: Segments): string[] => s.map(([f]) => f);

  beforeAll(() => {
    labDown({ name: lab });
    labUp({ name: lab, hosts: ['client', 'server', 'router'] });
    server = hostAddress('server', 4, lab);
    for (const [kind, port] of [['get', 7000], ['get-slow', 7001], ['echo', 7002], ['never-close', 7003], ['bound', 7004], ['http', 8080]] as const) {
      targets[kind] = labServe(kind, { lab, host: 'server', port });
    }
  });
  afterAll(() => {
    if (root) labDown({ name: lab });
  });

  it('handshake: get, the server closes at once; get-slow, its FIN 0.1 s after the data', async () => {
    const get = await run<HandshakeResult>('client', 'handshake', ['get', server, '7000']);
    expect(get.reply).toBe('200 ok');
    expect(flags(get.segments).slice(0, 3)).toEqual(['out S', 'in SA', 'out A']);
    const f = flags(get.segments);
    // The server's FIN comes before ours: we close passively (LAST-ACK) and end CLOSED.
    expect(f.indexOf('in FA')).toBeGreaterThan(f.indexOf('in PA data'));
    expect(f.indexOf('in FA')).toBeLessThan(f.indexOf('out FA'));
    expect(get.state).toBe('CLOSED');

    const slow = await run<HandshakeResult>('client', 'handshake', ['get-slow', server, '7001']);
    expect(slow.reply).toBe('200 ok');
    const data = slow.segments.find(([s]) => s === 'in PA data')!;
    const fin = slow.segments.find(([s]) => s.startsWith('in F'))!;
    expect(fin[1] - data[1]).toBeGreaterThanOrEqual(90);
    expect(targets.get!.lines()).toContain('data "get"');
  });

  it('teardown: we close first and wait in TIME-WAIT; a server that never closes sits in CLOSE-WAIT', async () => {
    const echo = await run<HandshakeResult>('client', 'handshake', ['echo', server, '7002']);
    expect(echo.reply).toBe('hello');
    expect(flags(echo.segments).slice(-3)).toEqual(['out FA', 'in FA', 'out A']);
    expect(echo.state).toBe('TIME-WAIT');

    const nc = await run<HandshakeResult>('client', 'handshake', ['never-close', server, '7003']);
    expect(nc.state).toBe('FIN-WAIT-2');
    expect(labExec('server', ['ss', '-Htn', 'state', 'close-wait', 'sport', '= :7003'], { lab }).stdout).toContain(':7003');
  });

  it('handshake: a SYN to a bound-but-not-listening port gets RST', async () => {
    const r = await run<{ reply: string }>('client', 'handshake', ['closed', server, '7004']);
    expect(r.reply).toBe('RA');
  });

  it('SYN scan and connect scan find the same ports; only the connect scan reaches the application', async () => {
    const before = targets.echo!.lines().filter((l) => l.startsWith('accepted')).length;
    const syn = await run<{ open: number[]; closed: number }>('client', 'scan', ['syn', server, '6998-7006']);
    const afterSyn = targets.echo!.lines().filter((l) => l.startsWith('accepted')).length;
    const connect = await run<{ open: number[]; closed: number }>('client', 'scan', ['connect', server, '6998-7006']);
    expect(syn.open).toEqual([7000, 7001, 7002, 7003]);
    expect(connect.open).toEqual(syn.open);
    expect(syn.closed).toBe(5);
    expect(afterSyn).toBe(before);
    // The accept() happens a moment after the client's connect() returns.
    await new Promise((r) => setTimeout(r, 200));
    expect(targets.echo!.lines().filter((l) => l.startsWith('accepted')).length).toBe(afterSyn + 1);
  });

  it('traceroute: TTL 1 dies at the router (ICMP time exceeded), TTL 2 reaches the server, v4 and v6', async () => {
    for (const family of [4, 6] as const) {
      const dst = hostAddress('server', family, lab);
      const r = await run<{ hops: Array<{ ttl: number; from: string; reply: string }> }>('client', 'traceroute', [dst]);
      expect(r.hops.map((h) => [h.from, h.reply])).toEqual([
        [hostAddress('client', family, lab).replace(/\.2$|::2$/, (m) => (m === '.2' ? '.1' : '::1')), 'time-exceeded'],
        [dst, 'echo-reply'],
      ]);
    }
  });

  it('RST injection: exact sequence kills the connection; in-window draws a challenge ACK; outside is ignored', async () => {
    // The echo targets first: labServe waits for each synchronously, and a wait inside one
    // attack would stall the others' event loop (an injector's 5 s watch ran out that way).
    const targetOn = new Map([7100, 7101, 7102].map((port) => [port, labServe('echo', { lab, host: 'server', port })]));
    const attack = async (mode: string, port: number) => {
      const target = targetOn.get(port)!;
      // The victim starts once the injector's capture runs (its 'watching' line): on a loaded
      // machine the injector's start-up alone could outlast a victim started beside it.
      let watching: () => void = () => {};
      const ready = new Promise<void>((resolve) => (watching = resolve));
      const injector = labRun('router', 'rst-inject', [mode, hostAddress('client', 4, lab), server, String(port), 'eth-server'], {
        lab,
        timeout: 20_000,
        onLine: (line) => line.startsWith('watching') && watching(),
      });
      const started = await Promise.race([ready.then(() => true), injector.then(() => false)]);
      const chat = started ? labRun('client', 'chat-client', [server, String(port), '500', '3000'], { lab, timeout: 10_000 }) : undefined;
      const [r, victim] = await Promise.all([injector, chat]);
      if (r.code !== 0 || r.result === undefined) throw new Error(`rst-inject ${mode} failed (${r.code}):\n${r.stdout}\n${r.stderr}\nthe victim:\n${victim?.stdout}${victim?.stderr}`);
      return { inject: r.result as { challengeAck: boolean; rcvNxt: number; seq: number }, victim: victim!.result as { echoes: number; sent: number; error: string | null }, serverLog: target.lines() };
    };
    const [exact, window, outside] = await Promise.all([attack('exact', 7100), attack('window', 7101), attack('outside', 7102)]);
    expect(exact.inject.seq).toBe(exact.inject.rcvNxt);
    expect(exact.inject.challengeAck).toBe(false);
    // The server's side is gone: the client's next ping draws a RST.
    expect(exact.serverLog.some((l) => l.startsWith('error ECONNRESET'))).toBe(true);
    expect(exact.victim.error).toBe('ECONNRESET');
    expect(window.inject.challengeAck).toBe(true);
    expect(window.victim.error).toBeNull();
    expect(window.victim.echoes).toBe(window.victim.sent);
    expect(outside.inject.challengeAck).toBe(false);
    expect(outside.victim.error).toBeNull();
  });

  it('the window: a receiver that never ACKs holds the server to one window, then it retransmits with backoff', async () => {
    const r = await run<{ highestByte: number; retransmits: number[] }>('client', 'window', [server, '8080', '2000', '1200']);
    expect(r.highestByte).toBeLessThanOrEqual(2000);
    expect(r.highestByte).toBeGreaterThan(0);
    expect(r.retransmits.length).toBeGreaterThanOrEqual(2);
    const gaps = r.retransmits.slice(1).map((t, i) => t - r.retransmits[i]!);
    // Exponential backoff: each wait at least as long as the one before (allowing jitter).
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]! * 1.5);
  });
});
