/**
 * The loss exercise: a megabyte through a router that drops 5% each way. The transfer still
 * completes (TCP repairs it) and the server's retransmission counter shows the repairs.
 * Delay needs tc netem; on a kernel without sch_netem the lab refuses --delay (checked here
 * too) and the test goes on with loss alone. Root only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAddress, labDown, labExec, labServe, labStatus, labUp, labNamespaces } from '../src/lab/index.js';

const root = process.getuid?.() === 0;
if (!root) console.log('lab loss test skipped: it needs root (network namespaces)');
const lab = `ll${process.pid % 10000}`;

/** A kernel counter of the server's namespace, read from /proc (nstat keeps a history file shared across namespaces). */
function counter(file: 'snmp' | 'netstat', group: string, name: string): number {
  const lines = labExec('server', ['cat', `/proc/net/${file}`], { lab }).stdout.split('\n').filter((l) => l.startsWith(`${group}:`));
  const names = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[names.indexOf(name)]);
}

const retransSegs = (): number => counter('snmp', 'Tcp', 'RetransSegs');

describe.skipIf(!root)('window and retransmissions under loss', () => {
  let withDelay = true;
  beforeAll(() => {
    labDown({ name: lab });
    try {
      labUp({ name: lab, hosts: ['client', 'server', 'router'], delayMs: 5, lossPercent: 5 });
    } catch (err) {
      if (!/netem/.test((err as Error).message)) throw err;
      console.log(`no delay in this run: ${(err as Error).message}`);
      withDelay = false;
      // The failed `up` removed what it made.
      expect(labNamespaces(lab)).toEqual([]);
      labUp({ name: lab, hosts: ['client', 'server', 'router'], lossPercent: 5 });
    }
  });
  afterAll(() => {
    if (!root) return;
    labDown({ name: lab });
    expect(labNamespaces(lab)).toEqual([]);
  });

  it('a megabyte gets through 5% loss, and the server retransmitted to make it so', () => {
    const status = labStatus({ name: lab });
    expect(status.impairment?.lossPercent).toBe(5);
    if (withDelay) expect(status.impairment?.method).toBe('netem');
    labServe('http', { lab, host: 'server', port: 8080 });
    const before = retransSegs();
    const url = `http://${hostAddress('server', 4, lab)}:8080/bytes/1000000`;
    const r = labExec('client', ['curl', '-sS', '--max-time', '30', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', url], { lab, timeout: 40_000 });
    console.log(`1 MB through 5% loss${withDelay ? ' and 5 ms delay' : ''}: ${r.stdout} s; server retransmitted ${retransSegs() - before} segments`);
    expect(r.stdout.split(' ')[0]).toBe('1000000');
    expect(retransSegs()).toBeGreaterThan(before);
  });
});
