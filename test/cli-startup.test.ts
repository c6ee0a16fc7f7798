/**
 * How `synack` starts when run as a command (bin/synack's shell line, then CommonJS): read,
 * scan and conv start Node without NODE_EXTRA_CA_CERTS (Node 20 parses that file at every start;
 * none of them makes a TLS connection), every other command keeps the environment, and the
 * bundles of read, scan and conv load. Offline: nothing here opens a socket.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writePcap } from '../src/index.js';
import { BIN, ensureBuilt } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-startup-'));
const capture = join(dir, 'empty.pcap');
// A certificate file that does not exist: Node warns on stderr when it tries to load it.
const env = { ...process.env, TZ: 'UTC', NO_COLOR: '1', NODE_EXTRA_CA_CERTS: join(dir, 'no-such-ca.pem') };
/** Node 20 loads NODE_EXTRA_CA_CERTS at start-up; Node 24 only when TLS is first used. */
const loadsCertsAtStart = Number(process.versions.node.split('.')[0]) < 22;

/** bin/synack run the way a shell runs it (the kernel reads its #! line), with `node` from this test's Node. */
function asCommand(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { encoding: 'utf8', env: { ...env, PATH: `${join(process.execPath, '..')}:${process.env.PATH ?? ''}` }, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  ensureBuilt();
  writePcap(capture, { linkType: 'ether' }).close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('synack as a command', () => {
  it('read starts without NODE_EXTRA_CA_CERTS: stderr is only tcpdump\'s note', () => {
    const r = asCommand(['read', capture, 'tcp port 80']);
    expect(r.stderr).toBe(`reading from file ${capture}, link-type EN10MB (Ethernet), snapshot length 262144\n`);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });

  it('scan loads from its bundle and starts without NODE_EXTRA_CA_CERTS (its help, nothing sent)', () => {
    const r = asCommand(['scan', '--help']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: synack scan /);
    expect(r.code).toBe(0);
  });

  it('conv loads from its bundle and starts without NODE_EXTRA_CA_CERTS: stdout is the empty table', () => {
    const r = asCommand(['conv', capture]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('TCP Conversations\nFilter:<No Filter>\n');
    expect(r.code).toBe(0);
  });

  it('other commands keep the environment as it is', () => {
    const r = asCommand(['build', "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')", '--hex']);
    expect(r.stdout.trim()).toMatch(/^45000028[0-9a-f]+$/);
    if (loadsCertsAtStart) expect(r.stderr).toContain('no-such-ca.pem');
    else expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
