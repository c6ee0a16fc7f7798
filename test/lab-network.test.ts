/**
 * The lab's network: what `lab up` builds (and what it must not touch), status, exec, the
 * command line, and `lab down` after a `lab up` killed half-way. Root only.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hostNamespace, labDown, labExec, labNamespaces, labStatus, labUp, listLabs } from '../src/lab/index.js';
import { readState } from '../src/lab/state.js';

const root = process.getuid?.() === 0;
if (!root) console.log('lab network tests skipped: they need root (network namespaces)');
const tag = process.pid % 10000;
const lab = `ln${tag}`;
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const repo = new URL('..', import.meta.url).pathname;

function hostView(): { links: string[]; routes: string } {
  const links = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
  const routes = execFileSync('ip', ['route', 'show'], { encoding: 'utf8' }) + execFileSync('ip', ['-6', 'route', 'show'], { encoding: 'utf8' });
  return { links, routes };
}

/** The synack CLI from sources (no build needed). */
function synack(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const code = `const m = await import(${JSON.stringify(repo + 'src/cli/main.ts')}); await m.main(['node', 'synack', ...process.argv.slice(1)]);`;
  const r = spawnSync(process.execPath, ['--import', tsx, '--input-type=module', '-e', code, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!root)('lab network', () => {
  afterAll(() => {
    if (!root) return;
    for (const name of [lab, `lk${tag}`, `lc${tag}`]) labDown({ name });
    const ours = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => new RegExp(`^synack-l[nkc]${tag}-`).test(l));
    expect(ours).toEqual([]);
  });

  it('builds client - router - server inside namespaces, leaving the host network alone', () => {
    const before = hostView();
    const status = labUp({ name: lab, hosts: ['client', 'server', 'router'] });
    expect(hostView()).toEqual(before);
    expect(status.state).toBe('up');
    expect(status.hosts.map((h) => [h.name, h.ns])).toEqual([
      ['client', `synack-${lab}-client`],
      ['server', `synack-${lab}-server`],
      ['router', `synack-${lab}-router`],
    ]);
    const client = status.hosts[0]!;
    expect(client.interfaces[0]!.addresses).toEqual(['198.51.100.2/26', '2001:db8:0:1::2/64']);
    expect(client.gateway).toBe('198.51.100.1');
    expect(status.hosts[1]!.interfaces[0]!.addresses).toEqual(['198.51.100.66/26', '2001:db8:0:2::2/64']);
    // Forwarding in the router only.
    expect(labExec('router', ['sysctl', '-n', 'net.ipv4.ip_forward'], { lab }).stdout.trim()).toBe('1');
    expect(labExec('client', ['sysctl', '-n', 'net.ipv4.ip_forward'], { lab }).stdout.trim()).toBe('0');
    const ping = labExec('client', ['ping', '-c', '1', '-W', '2', '198.51.100.66'], { lab });
    expect(ping.code).toBe(0);
    expect(ping.stdout).toContain('ttl=63');
    expect(labExec('client', ['ping', '-6', '-c', '1', '-W', '2', '2001:db8:0:2::2'], { lab }).code).toBe(0);
    expect(() => labUp({ name: lab })).toThrow(/already up/);
    expect(() => hostNamespace('sever', lab)).toThrow(/did you mean 'server'/);
    expect(listLabs()).toContain(lab);
  });

  it('status is recovered from `ip netns list` when the state file is gone', () => {
    execFileSync('rm', ['-f', `/run/synack/lab-${lab}.json`, `/tmp/synack/lab-${lab}.json`]);
    const status = labStatus({ name: lab });
    expect(status.state).toBe('partial');
    expect(status.hosts.map((h) => h.name).sort()).toEqual(['client', 'router', 'server']);
    const down = labDown({ name: lab });
    expect(down.namespaces.sort()).toEqual([`synack-${lab}-client`, `synack-${lab}-router`, `synack-${lab}-server`]);
    expect(labDown({ name: lab }).namespaces).toEqual([]);
    expect(labNamespaces(lab)).toEqual([]);
  });

  it('the command line: up, status, serve, exec, down', () => {
    const name = `lc${tag}`;
    const up = synack(['lab', 'up', '--lab', name, '--hosts', 'client,server']);
    expect(up.stderr).toBe('');
    expect(up.stdout).toContain('198.51.100.1/24');
    expect(synack(['lab', 'serve', 'get', '--host', 'server', '--port', '7000', '--lab', name]).code).toBe(0);
    const exec = synack(['lab', 'exec', 'client', '--lab', name, '--', 'sh', '-c', 'printf get | nc -q1 198.51.100.2 7000; exit 3']);
    expect(exec.code).toBe(3);
    expect(synack(['lab', 'status', '--lab', name]).stdout).toMatch(/get\s+server:7000 .* running/);
    const bad = synack(['lab', 'serve', 'gett', '--host', 'server', '--port', '7001', '--lab', name]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/did you mean 'get'/);
    expect(synack(['lab', 'down', '--lab', name]).stdout).toMatch(/removed .*stopped 1 process/);
    expect(synack(['lab', 'status', '--lab', name]).code).toBe(1);
  });

  it('`lab down` cleans up after a `lab up` killed half-way', async () => {
    const name = `lk${tag}`;
    const code = `const m = await import(${JSON.stringify(repo + 'src/lab/index.ts')}); m.labUp({ name: ${JSON.stringify(name)}, hosts: ['a', 'b', 'c', 'd', 'router'] });`;
    const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', code], { stdio: 'ignore' });
    // Kill it as soon as its first namespace exists: the rest is still being made.
    const deadline = Date.now() + 15_000;
    while (labNamespaces(name).length === 0 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const state = readState(name);
    console.log(`killed lab up with ${labNamespaces(name).length} namespace(s) made, state file status ${state?.status}`);
    expect(state?.status).toBe('creating');
    labDown({ name });
    expect(labNamespaces(name)).toEqual([]);
    expect(readState(name)).toBeUndefined();
  });
});
