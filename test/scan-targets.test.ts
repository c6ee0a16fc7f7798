/**
 * `synack scan` as an nmap user meets it: several targets and CIDR blocks in one run, targets
 * outside loopback and the lab refused before anything is sent, the PORT STATE SERVICE table
 * (service names from /etc/services), and Ctrl-C printing what was settled so far (exit 130).
 * Needs root (raw sockets and captures): servers on 127.0.0.1 and 127.0.0.2 made here; every
 * probe goes to 127.0.0.0/8. Without root the wire tests skip with the reason.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, freePort, isRoot, startSynack, synack } from './helpers/cli.js';

/** Ports that /etc/services names, tried in order until one is free on 127.0.0.1. */
const NAMED = [
  [6000, 'x11'],
  [5432, 'postgresql'],
  [3306, 'mysql'],
  [8080, 'http-alt'],
] as const;

const servers: net.Server[] = [];
let onFirst = 0; // listening on 127.0.0.1 only
let onSecond = 0; // listening on 127.0.0.2 only
let closed = 0;
let named: readonly [number, string] | undefined;

function listen(port: number, host: string): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer((c) => c.destroy());
    s.once('error', () => resolve(undefined));
    s.listen(port, host, () => resolve(s));
  });
}

beforeAll(async () => {
  ensureBuilt();
  const a = await listen(0, '127.0.0.1');
  const b = await listen(0, '127.0.0.2');
  servers.push(a!, b!);
  onFirst = (a!.address() as net.AddressInfo).port;
  onSecond = (b!.address() as net.AddressInfo).port;
  closed = await freePort();
  for (const entry of NAMED) {
    const s = await listen(entry[0], '127.0.0.1');
    if (s) {
      servers.push(s);
      named = entry;
      break;
    }
  }
}, 120_000);

afterAll(() => {
  for (const s of servers) s.close();
});

interface HostJson {
  host: string;
  ports: Record<string, number[]>;
  unsettled: number;
}

describe('scan: targets and their bounds (no privileges needed)', () => {
  for (const [target, words] of [
    ['10.0.0.1', /out of bounds.*127\.0\.0\.0\/8/],
    ['192.0.2.0/28', /out of bounds/],
    ['198.51.0.0/16', /out of bounds/],
    ['2001:4860::1', /out of bounds/],
    ['127.0.0.0/8', /holds 16777216 addresses: one scan takes at most 65536/],
    ['127.0.0.1/33', /bad prefix length/],
    ['127.0.0.1/x', /bad prefix length/],
  ] as const) {
    it(`refuses ${target} in one line, exit 2`, async () => {
      const r = await synack(['scan', '127.0.0.1', target, '-p', '80']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(words);
    });
  }

  it('refuses too many probes (addresses x ports) before sending', async () => {
    const r = await synack(['scan', '127.0.0.0/16', '-p', '1-100']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/6553600 probes: one scan sends at most 4194304/);
  });

  it('a name outside a lab is a usage error that says where names work', async () => {
    const r = await synack(['scan', 'server', '-p', '80']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/names are resolved only for lab hosts, inside a lab/);
  });
});

describe.skipIf(!isRoot)('scan on the wire (root)', () => {
  if (!isRoot) console.log('scan-targets: wire tests skipped: not root (raw sockets and captures need it)');

  it('several targets and a CIDR block: one report per address, each port as that address answers', async () => {
    const ports = `${onFirst},${onSecond},${closed}`;
    const r = await synack(['scan', '127.0.0.1', '127.0.0.2', '127.0.0.0/30', '-p', ports, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { hosts: HostJson[]; interrupted: boolean; probesSent: number };
    // Duplicates dropped, the order kept: the two named first, then the rest of the block.
    expect(result.hosts.map((h) => h.host)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.0', '127.0.0.3']);
    expect(result.interrupted).toBe(false);
    const [first, second, zero, three] = result.hosts;
    expect(first!.ports['open']).toEqual([onFirst]);
    expect(first!.ports['closed']!.sort()).toEqual([onSecond, closed].sort());
    expect(second!.ports['open']).toEqual([onSecond]);
    expect(second!.ports['closed']!.sort()).toEqual([onFirst, closed].sort());
    for (const h of [zero!, three!]) expect(h.ports['open']).toEqual([]);
    expect(three!.ports['closed']!.length).toBe(3);
    expect(result.probesSent).toBeGreaterThanOrEqual(12);

    const table = await synack(['scan', '127.0.0.1', '127.0.0.2', '-p', ports]);
    expect(table.code, table.stderr).toBe(0);
    const reports = table.stdout.split(/\n\n/);
    expect(reports[0]).toMatch(/^synack scan report for 127\.0\.0\.1\nHost is up \([\d.]+s latency\)\./);
    expect(reports[0]).toMatch(new RegExp(`\\n${onFirst}/tcp +open +\\S+ +syn-ack(\\n|$)`));
    expect(reports[1]).toMatch(/^synack scan report for 127\.0\.0\.2\n/);
    expect(reports[1]).toMatch(new RegExp(`\\n${onSecond}/tcp +open +\\S+ +syn-ack(\\n|$)`));
    expect(reports[2]).toMatch(/^synack done: 2 addresses \(2 hosts up\) scanned in [\d.]+ s, \d+ probes \(syn\)\n$/);
  });

  it("lo's first reply is settled in the first round: one probe per port, none resent", async () => {
    // On lo the capture keeps only inbound copies, and libpcap drops the first frame after its
    // filter is set (it filters that one in user space, where `inbound` is not known): without
    // the scan's primer taking that frame, the first answer is lost and only a retry settles it.
    for (const ports of [`${closed}`, `${onFirst},${closed}`]) {
      const r = await synack(['scan', '127.0.0.1', '-p', ports, '--retries', '0', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(r.stdout) as { probesSent: number; ports: Record<string, number[]> };
      expect(result.ports['closed']).toEqual([closed]);
      expect(result.ports['filtered']).toEqual([]);
      expect(result.probesSent).toBe(ports.split(',').length);
    }
    const v6 = await synack(['scan', '::1', '-p', `${closed}`, '--retries', '0', '--json']);
    expect(v6.code, v6.stderr).toBe(0);
    expect((JSON.parse(v6.stdout) as { ports: Record<string, number[]> }).ports['closed']).toEqual([closed]);
  });

  it('the SERVICE column names the port as /etc/services does, in columns as nmap aligns them', async () => {
    if (!named) throw new Error(`none of ${NAMED.map((n) => n[0]).join(', ')} is free on 127.0.0.1 to listen on`);
    const [port, service] = named;
    const r = await synack(['scan', '127.0.0.1', '-p', `${port},${closed}`]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => l.startsWith('PORT'));
    expect(header).toBeGreaterThan(0);
    const head = lines[header]!;
    const row = lines.find((l) => l.startsWith(`${port}/tcp`))!;
    expect(row).toMatch(new RegExp(`^${port}/tcp +open +${service} +syn-ack$`));
    // Every column starts where its title does.
    expect(row.indexOf('open')).toBe(head.indexOf('STATE'));
    expect(row.indexOf(service)).toBe(head.indexOf('SERVICE'));
    expect(row.indexOf('syn-ack')).toBe(head.indexOf('REASON'));
    const closedRow = lines.find((l) => l.startsWith(`${closed}/tcp`))!;
    expect(closedRow).toMatch(/ closed +\S+ +reset$/);
  });

  it('Ctrl-C prints the ports settled so far, says it was interrupted, exits 130', async () => {
    // Slow on purpose (2000 probes/s for 65535 ports), so the interrupt lands mid-scan.
    const run = startSynack(['scan', '127.0.0.1', '-p', '-', '--rate', '2000', '--json']);
    await new Promise((r) => setTimeout(r, 1500));
    run.kill('SIGINT');
    const r = await run.wait();
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toBe('synack: interrupted: the ports settled so far are above\n');
    const result = JSON.parse(r.stdout) as { interrupted: boolean; hosts: HostJson[] };
    expect(result.interrupted).toBe(true);
    const h = result.hosts[0]!;
    const settled = Object.values(h.ports).reduce((n, l) => n + l.length, 0);
    expect(settled).toBeGreaterThan(100);
    expect(h.unsettled).toBeGreaterThan(1000);
    expect(settled + h.unsettled).toBe(65535);
    // Nothing said filtered: the ports not reached are unsettled, not guessed.
    expect(h.ports['filtered']).toEqual([]);

    const text = startSynack(['scan', '127.0.0.1', '-p', '-', '--rate', '2000']);
    await new Promise((r) => setTimeout(r, 1500));
    text.kill('SIGINT');
    const t = await text.wait();
    expect(t.code).toBe(130);
    expect(t.stdout).toMatch(/^synack scan report for 127\.0\.0\.1\n/);
    expect(t.stdout).toMatch(/\nNot settled: \d+ ports \(interrupted\)\n/);
    expect(t.stdout).toMatch(/, interrupted\n$/);
  });
});
