/**
 * Usage errors: each bad invocation exits 2 with exactly one line on stderr, no stack trace,
 * and nothing on stdout.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ensureBuilt, isRoot, synack } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'synack-cli-usage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const textFile = join(dir, 'notes.txt');
const gzFile = join(dir, 'c.pcap.gz');
writeFileSync(textFile, 'hello, this is not a capture\n');
writeFileSync(gzFile, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));

/** [args, a word the message must contain] */
const BAD: Array<[string[], RegExp]> = [
  [['nosuchcommand'], /unknown command/],
  [['build', "IP(dst='127.0.0.1')/TCP(dprot=80)"], /dport/],
  [['build', "IPP(dst='127.0.0.1')"], /unknown layer|IP/],
  [['build', "IP(dst='127.0.0.1')/TCP(flags='SZ')"], /flag/i],
  [['build', "IP(dst='127.0.0.1'"], /column|expected/],
  [['build', '--nope', 'IP()'], /unknown option/],
  [['build', "IP(dst='300.1.1.1')"], /address|300/],
  [['build', '-f', join(dir, 'missing.txt')], /no such file/],
  [['send', "IP(dst='127.0.0.1')/TCP()", '--flood'], /needs an end/],
  [['send', "IP(dst='127.0.0.1')/TCP()", '-c', 'zero'], /count/],
  [['send', "IP(dst='127.0.0.1')/TCP()", '--iface', 'nosuch0'], /no interface named 'nosuch0'/],
  [['send', "IP(dst='127.0.0.1')/TCP()", '--duration', '1'], /--duration goes with --flood/],
  [['sr1', "IP(dst='127.0.0.1')/TCP()", '--timeout', '-1'], /timeout/],
  [['sr1', "IP(dst='127.0.0.1')/TCP(sport=70000)"], /70000|range|sport/],
  [['sr', "Ether()/IP(dst='127.0.0.1')/TCP()"], /link layer|sendp/],
  [['ping', '999.1.1.1', '-S'], /bad host/],
  [['ping', '127.0.0.1', '-p', '65536'], /out of range/],
  [['ping', '127.0.0.1', '-Z'], /unknown option/],
  [['ping', '127.0.0.1', '--ttl', '300'], /ttl/],
  [['ping', 'example.com'], /names are not resolved/],
  [['probe', '127.0.0.1'], /HOST:PORT/],
  [['probe', '127.0.0.1:0'], /out of range/],
  [['probe', '127.0.0.1:http'], /bad port/],
  [['scan', '127.0.0.1', '-p', '1-70000'], /out of range/],
  [['scan', '127.0.0.1', '-p', '100-1'], /above the last/],
  [['scan', '127.0.0.1', '--type', 'maimon'], /unknown scan type/],
  [['scan', '127.0.0.1', '-p', '22,,80'], /empty item/],
  [['scan', 'localhost.example', '-p', '22'], /bad host/],
  [['sniff', '-i', 'nosuch0', '-c', '1'], /no interface named 'nosuch0'/],
  [['sniff', '-i', 'lo', '-c', '1', 'tcp port'], /filter|syntax/i],
  [['read', join(dir, 'missing.pcap')], /no such file/],
  [['read', textFile], /not a pcap or pcapng file.*text/],
  [['read', gzFile], /gzip/],
  [['read', dir], /directory/],
  [['read', textFile, 'tcp prot 80'], /unexpected 'prot' \(did you mean 'port'/],
  [['read', textFile, '-c', '0'], /count/],
  [['handshake', '127.0.0.1:99999'], /out of range/],
  [['handshake', '127.0.0.1:80', '--close', 'slam'], /unknown --close mode/],
  [['handshake', '1.2.3:80'], /bad address/],
  [['guard'], /nothing to do/],
];

beforeAll(() => ensureBuilt(), 120_000);

describe('usage errors: exit 2 and one line', () => {
  it('has at least 30 cases', () => {
    expect(BAD.length).toBeGreaterThanOrEqual(30);
  });
  for (const [args, hint] of BAD) {
    it(`synack ${args.join(' ')}`, async () => {
      const r = await synack(args, { timeoutMs: 15_000 });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(hint);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    });
  }
});

describe('not root', () => {
  // setpriv drops to nobody; the program must say why it cannot work, in one line.
  for (const args of [['ping', '127.0.0.1', '-S', '-c', '1'], ['scan', '127.0.0.1', '-p', '22'], ['sniff', '-i', 'lo', '-c', '1'], ['handshake', '127.0.0.1:22']]) {
    it.skipIf(!isRoot)(`synack ${args.join(' ')} as nobody`, async () => {
      const r = await synack(args, { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] });
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/root|CAP_NET_RAW/);
    });
  }
});

describe('help', () => {
  for (const cmd of ['build', 'send', 'sr1', 'sr', 'ping', 'probe', 'scan', 'sniff', 'read', 'handshake', 'shell']) {
    it(`synack ${cmd} --help shows examples and exits 0`, async () => {
      const r = await synack([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`synack ${cmd}`);
    });
  }
});

// `synack X --help | head -1`: the reader closing the pipe early is not an error (as for tcpdump).
describe('output into a pipe closed early', () => {
  for (const command of ['', 'read', 'sniff', 'scan', 'handshake']) {
    it(`synack ${command} --help | head -c 1 exits 0 with nothing on stderr`, () => {
      const line = `"${process.execPath}" "${BIN}" ${command} --help | head -c 1 >/dev/null`;
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', line], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    });
  }
});
