/**
 * The kernel-RST guard's lifetime against the real kernel (root): the nft table is an owner
 * table, so SIGKILL of the whole process group (or of synack alone) leaves nothing; the sweep
 * removes what a dead run recorded (iptables rules, even while the dead process is a zombie)
 * and nothing that merely looks like ours.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { flushGuards, installGuard, sweepGuards } from '../src/index.js';
import { guardToken } from '../src/tcp/guard.js';
import { newToken, processIdentity, readRecords, writeRecord } from '../src/tcp/guard/records.js';

const root = process.getuid?.() === 0;
if (!root) console.log('guard.test: skipped: nft and iptables need root');
const ROOT_DIR = new URL('..', import.meta.url).pathname;

function nftTables(): string {
  return execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
}

function iptablesSave(): string {
  return execFileSync('iptables-save', ['-t', 'filter'], { encoding: 'utf8' });
}

async function until(check: () => boolean, ms = 3000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** A child synack process that installs one guard and prints READY; `shell` wraps it in `sh -c '... & exec sleep'` (a parent that never reaps). */
function guardChild(backend: 'nftables' | 'iptables', sport: number, options: { detached?: boolean; zombieParent?: boolean } = {}): { child: ChildProcess; ready: Promise<number> } {
  const script = `import { installGuard } from ${JSON.stringify(`${ROOT_DIR}src/tcp/guard.ts`)};
await installGuard({ src: '127.0.0.1', sport: ${sport}, dst: '127.0.0.1', dport: 9 }, { backend: '${backend}' });
console.log('READY ' + process.pid);
setInterval(() => undefined, 1000);`;
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  const child = options.zombieParent
    ? spawn('sh', ['-c', `"$@" & exec sleep 30`, 'sh', ...node], { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(node[0]!, node.slice(1), { cwd: ROOT_DIR, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
  });
  return { child, ready };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

describe.skipIf(!root)('the guard owns its table', () => {
  afterAll(async () => {
    await flushGuards();
  });

  it('the table is made with flags owner and carries this run\'s token', async () => {
    const g = await installGuard({ src: '127.0.0.1', sport: 40101, dst: '127.0.0.1', dport: 9 }, { backend: 'nftables' });
    const text = execFileSync('nft', ['list', 'table', 'inet', `synack_${process.pid}`], { encoding: 'utf8' });
    expect(text).toContain('flags owner');
    expect(text).toContain(`comment "synack:${guardToken()}"`);
    expect(text).toMatch(/elements = \{ 127\.0\.0\.1 \. 40101 \. 127\.0\.0\.1 \. 9 \}/);
    await g.remove();
    await flushGuards();
    expect(nftTables()).not.toContain(`synack_${process.pid}\n`);
  });

  it('SIGKILL of the whole process group leaves no table', async () => {
    const { child, ready } = guardChild('nftables', 40102, { detached: true });
    const pid = await ready;
    const table = `table inet synack_${pid}\n`;
    expect(nftTables()).toContain(table);
    process.kill(-child.pid!, 'SIGKILL');
    await exited(child);
    expect(await until(() => !nftTables().includes(table))).toBe(true);
  });

  it('SIGKILL of synack alone leaves no table either (nft -i reads EOF and exits)', async () => {
    const { child, ready } = guardChild('nftables', 40103);
    const pid = await ready;
    const table = `table inet synack_${pid}\n`;
    expect(nftTables()).toContain(table);
    child.kill('SIGKILL');
    await exited(child);
    expect(await until(() => !nftTables().includes(table))).toBe(true);
  });
});

describe.skipIf(!root)('the sweep removes only what we made', () => {
  it('an iptables rule of a SIGKILLed run is swept, and the record with it', async () => {
    const { child, ready } = guardChild('iptables', 40104);
    const pid = await ready;
    expect(iptablesSave()).toMatch(new RegExp(`--sport 40104 .*synack:${pid}:[0-9a-f]{16}`));
    child.kill('SIGKILL');
    await exited(child);
    // iptables has no owner flag: the rule outlives its maker until the sweep.
    expect(iptablesSave()).toContain(`synack:${pid}:`);
    const removed = await sweepGuards();
    expect(removed.some((r) => r.includes(`synack:${pid}:`))).toBe(true);
    expect(iptablesSave()).not.toContain(`synack:${pid}:`);
    expect(await sweepGuards()).toEqual([]);
  });

  it('sees a dead process that is still a zombie as gone', async () => {
    const { child, ready } = guardChild('iptables', 40105, { zombieParent: true });
    const pid = await ready;
    process.kill(pid, 'SIGKILL');
    // Its parent (sleep) never reaps it: a zombie, which kill(pid, 0) still reports alive.
    expect(await until(() => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z'))).toBe(true);
    const removed = await sweepGuards();
    expect(removed.some((r) => r.includes(`synack:${pid}:`))).toBe(true);
    expect(iptablesSave()).not.toContain(`synack:${pid}:`);
    child.kill('SIGKILL');
    await exited(child);
  });

  it('leaves a live run\'s rules alone', async () => {
    const { child, ready } = guardChild('iptables', 40106);
    const pid = await ready;
    expect(await sweepGuards()).not.toContainEqual(expect.stringContaining(`synack:${pid}:`));
    expect(iptablesSave()).toContain(`synack:${pid}:`);
    child.kill('SIGTERM');
    await exited(child);
    // SIGTERM runs the exit hook: the rule goes with the process, no sweep needed.
    expect(iptablesSave()).not.toContain(`synack:${pid}:`);
  });

  it('never removes a table named synack_<dead pid> or a rule tagged synack:<dead pid> that someone else made', async () => {
    const dead = spawn('true');
    await exited(dead);
    const pid = dead.pid!;
    execFileSync('nft', ['add', 'table', 'inet', `synack_${pid}`]);
    const rule = ['OUTPUT', '-p', 'tcp', '--sport', '40107', '-m', 'comment', '--comment', `synack:${pid}`, '-j', 'ACCEPT'];
    execFileSync('iptables', ['-I', ...rule]);
    try {
      const removed = await sweepGuards();
      expect(removed.filter((r) => r.includes(String(pid)))).toEqual([]);
      expect(nftTables()).toContain(`table inet synack_${pid}\n`);
      expect(iptablesSave()).toContain(`--comment "synack:${pid}" -j ACCEPT`);
    } finally {
      execFileSync('nft', ['delete', 'table', 'inet', `synack_${pid}`]);
      execFileSync('iptables', ['-D', ...rule]);
    }
  });

  it('sees a reused pid as gone: a live process that started after the record was written is not its owner', async () => {
    const live = spawn('sleep', ['30']);
    const pid = live.pid!;
    const token = newToken();
    const rule = { cmd: 'iptables' as const, chain: 'OUTPUT', args: ['-p', 'tcp', '--sport', '40108', '-m', 'comment', '--comment', `synack:${pid}:${token}`, '-j', 'ACCEPT'] };
    execFileSync('iptables', ['-I', rule.chain, ...rule.args]);
    // The record says the owner started earlier than the process now holding the pid.
    writeRecord({ pid, start: processIdentity(pid)!.start - 100, token, rules: [rule] });
    try {
      const removed = await sweepGuards();
      expect(removed.some((r) => r.includes(token))).toBe(true);
      expect(iptablesSave()).not.toContain(token);
      expect(readRecords().some((r) => r.token === token)).toBe(false);
    } finally {
      live.kill('SIGKILL');
      try {
        execFileSync('iptables', ['-D', rule.chain, ...rule.args], { stdio: 'ignore' });
      } catch {
        // Swept, as it should be.
      }
    }
  });
});
