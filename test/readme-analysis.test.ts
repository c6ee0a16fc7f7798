/**
 * The README's TCP analysis section, run: every ```ts block and every `synack ...` line in it,
 * in a directory holding the capture.pcap they name (made here with synack's builder: a
 * handshake, data with one segment the capture missed, three duplicate ACKs, the fast
 * retransmission, a close), and the sample output shown there must be what synack prints.
 * No root needed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IP, TCP, writePcap } from '../src/index.js';
import type { Packet } from '../src/index.js';
import { BIN, ensureBuilt, ROOT } from './helpers/cli.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## TCP analysis'), readme.indexOf('\n## ', readme.indexOf('## TCP analysis') + 5));
const blocks = [...section.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]! }));

/** The capture the README's examples read. */
function makeCapture(path: string): void {
  const w = writePcap(path, { linkType: 'ip' });
  let t = 1_000_000;
  const c = { seq: 1000 };
  const s = { seq: 5000 };
  const seg = (fromClient: boolean, flags: string, seq: number, ack: number, data?: number, options?: unknown[]): void => {
    let p: Packet = IP({ src: '127.0.0.1', dst: '127.0.0.1', id: 1 }).add(
      TCP({ sport: fromClient ? 40000 : 8080, dport: fromClient ? 8080 : 40000, seq, ack, flags, window: fromClient ? 502 : 510, ...(options ? { options: options as never } : {}) }),
    );
    if (data) p = p.add(Buffer.alloc(data, 0x61));
    t += 1000;
    w.write(p, t);
  };
  const synOptions = [['MSS', 1460], ['SAckOK'], ['NOP'], ['WScale', 7]];
  seg(true, 'S', c.seq, 0, 0, synOptions);
  seg(false, 'SA', s.seq, c.seq + 1, 0, synOptions);
  const C = c.seq + 1;
  const S = s.seq + 1;
  seg(true, 'A', C, S);
  seg(true, 'PA', C, S, 1448);
  seg(false, 'A', S, C + 1448);
  seg(true, 'PA', C + 1448, S, 1448);
  // C + 2896 .. C + 4344 never reaches the capture.
  seg(true, 'PA', C + 4344, S, 1448);
  seg(false, 'A', S, C + 2896, 0, [['NOP'], ['NOP'], ['SAck', [C + 4344, C + 5792]]]);
  for (let i = 1; i <= 3; i++) {
    seg(true, 'PA', C + 4344 + 1448 * i, S, 1448);
    seg(false, 'A', S, C + 2896, 0, [['NOP'], ['NOP'], ['SAck', [C + 4344, C + 5792 + 1448 * i]]]);
  }
  seg(true, 'PA', C + 2896, S, 1448);
  const end = C + 4344 + 1448 * 4;
  seg(false, 'A', S, end);
  seg(true, 'FA', end, S);
  seg(false, 'FA', S, end + 1);
  seg(true, 'A', end + 1, S + 1);
  w.close();
}

describe('the README TCP analysis section runs as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synack-readme-analysis-'));
  beforeAll(() => {
    ensureBuilt();
    makeCapture(join(dir, 'capture.pcap'));
  });
  afterAll(() => {
    if (process.env.KEEP_README_DIR) console.log(dir);
    else rmSync(dir, { recursive: true, force: true });
  });

  it('has examples to run', () => {
    expect(blocks.filter((b) => b.lang === 'ts').length).toBeGreaterThanOrEqual(2);
  });

  it.each(blocks.filter((b) => b.lang === 'ts').map((b, i) => [i, b.body]))('ts block %i runs', (i, body) => {
    const file = join(dir, `example-${i}.mts`);
    writeFileSync(file, String(body).replaceAll("from 'synack'", `from '${join(ROOT, 'src', 'index.ts')}'`));
    const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
    const r = spawnSync(process.execPath, ['--import', tsx, file], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  const commands = blocks.filter((b) => b.lang === '').flatMap((b) => b.body.split('\n').filter((l) => l.startsWith('synack ')));
  it.each(commands)('%s', (line) => {
    const r = spawnSync(process.execPath, [BIN, ...line.split(/\s+/).slice(1)], { cwd: dir, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' }, timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  it('the sample --explain output is what synack prints', () => {
    const sample = blocks.find((b) => b.lang === '' && b.body.includes('client opens'))!;
    const r = spawnSync(process.execPath, [BIN, 'read', 'capture.pcap', '--explain'], { cwd: dir, encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    const lines = r.stdout.split('\n');
    for (const l of sample.body.split('\n').filter((x) => x && x !== '...')) expect(lines).toContain(l);
  });
});
