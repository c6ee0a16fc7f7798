/**
 * The package a user gets. `npm pack` of this repository is installed into a fresh project with
 * exactly the lines of the README's Install section, on the Node running this test; then the
 * README's TypeScript samples are type-checked there with TypeScript 5 and with the registry's
 * current major (strict, module nodenext, nothing installed that the README does not name), and
 * `npx synack` runs from the installed package. A second project installs with --ignore-scripts,
 * as npm does when it skips the addons' builds, and must get synack's one-line error.
 *
 * Needs the npm registry (synack's dependencies, TypeScript). Installs run once, in parallel.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ether, IP, TCP, UDP, writePcap } from '../src/index.js';
import { ensureBuilt, isRoot, ROOT } from './helpers/cli.js';
import { mergeImports } from './helpers/readme-imports.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const scratch = mkdtempSync(join(tmpdir(), 'synack-pack-'));
const app = join(scratch, 'app');
const unbuilt = join(scratch, 'unbuilt');

/** The children run on this test's Node; npm builds the addons against the headers beside it. */
function childEnv(): NodeJS.ProcessEnv {
  const nodeDir = dirname(dirname(process.execPath));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  if (existsSync(join(nodeDir, 'include', 'node', 'node.h'))) env.npm_config_nodedir = nodeDir;
  return env;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += String(d)));
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(command: string, args: string[], cwd: string): Promise<Result> {
  const r = await run(command, args, cwd);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${r.code}:\n${r.stderr.slice(-3000)}${r.stdout.slice(-2000)}`);
  return r;
}

/** The shell lines of the README's Install section, with the registry's `synack` replaced by the packed file. */
function installLines(tarball: string): string[] {
  const section = README.split(/^## Install in your own project$/m)[1];
  const block = section && /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README.md has no '## Install in your own project' section with a sh block");
  return block[1]!
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('npm '))
    .map((line) => line.replace(/^npm install synack$/, `npm install ${tarball}`));
}

/** Every ```ts block of the README, as one module: the imports first, then the code in order. */
function readmeSamples(): string {
  const imports: string[] = [];
  const code: string[] = [];
  for (const [, block] of README.matchAll(/```ts\n([\s\S]*?)```/g)) {
    for (const line of block!.split('\n')) (line.startsWith('import ') ? imports : code).push(line);
  }
  return [...mergeImports(imports), ...code].join('\n') + '\n';
}

/** The tsconfig the README gives a TypeScript user. */
function readmeTsconfig(): string {
  const m = /`(\{ "compilerOptions":\s*\{[^`]*\} \})`/.exec(README);
  if (!m) throw new Error('README.md names no tsconfig.json for TypeScript users');
  return m[1]!.replace(/\s+/g, ' ');
}

let tarball = '';
let packed: string[] = [];
const compilers: Record<string, string> = {};
/** Each compiler's version line and its output on the samples, started as soon as the installs end. */
const checks: Record<string, Promise<{ version: string; result: Result }>> = {};

function typeCheck(spec: string): Promise<{ version: string; result: Result }> {
  return (async () => {
    const version = (await ok(process.execPath, [compilers[spec]!, '--version'], app)).stdout.trim();
    const result = await run(process.execPath, [compilers[spec]!, '-p', '.', '--noEmit'], app, 180_000);
    return { version, result };
  })();
}

beforeAll(async () => {
  ensureBuilt();
  // The build above is what CI's `npm run build` made; --ignore-scripts skips prepack's second build.
  const pack = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], ROOT);
  const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(scratch, info!.filename);
  packed = info!.files.map((f) => f.path);

  const project = async (dir: string, lines: string[]): Promise<void> => {
    mkdirSync(dir);
    await ok('npm', ['init', '-y'], dir);
    for (const line of lines) await ok('sh', ['-c', line], dir);
  };
  const typescript = async (spec: string): Promise<void> => {
    const dir = join(scratch, spec.replace(/[@/]/g, '-'));
    mkdirSync(dir);
    await ok('npm', ['install', '--no-save', spec], dir);
    compilers[spec] = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  };
  await Promise.all([
    project(app, installLines(tarball)),
    project(unbuilt, ['npm pkg set type=module', `npm install --ignore-scripts ${tarball}`]),
    typescript('typescript@5'),
    typescript('typescript@latest'),
  ]);
  // The checks run while the tests below use the wire: on two cores the first one takes ~20 s.
  writeFileSync(join(app, 'readme-samples.ts'), readmeSamples());
  writeFileSync(join(app, 'tsconfig.json'), readmeTsconfig());
  for (const spec of Object.keys(compilers)) checks[spec] = typeCheck(spec);
  for (const check of Object.values(checks)) check.catch(() => undefined);
}, 420_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

describe('the packed package', () => {
  it('holds what the README points users to, and none of the repository tooling', () => {
    for (const file of ['LICENSE', 'README.md', 'bin/synack', 'dist/index.js', 'dist/index.d.ts', 'package.json']) expect(packed).toContain(file);
    expect(readFileSync(join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    const wanted = [...filesUnder('examples'), ...filesUnder('docs/exercises')];
    expect(wanted.filter((f) => f.endsWith('.pkt')).length).toBeGreaterThan(0);
    expect(wanted.filter((f) => f.startsWith('docs/exercises/')).length).toBeGreaterThan(0);
    for (const file of wanted) expect(packed).toContain(file);
    expect(packed.filter((f) => /^(test|bench|\.ci|node_modules)\//.test(f))).toEqual([]);
  });

  it('installs the way the README says, with both addons built for this Node', () => {
    for (const addon of ['raw-socket/build/Release/raw.node', 'cap/build/Release/cap.node']) {
      expect(existsSync(join(app, 'node_modules', addon)), addon).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.allowScripts).toEqual({ 'raw-socket': true, cap: true });
  });

  it('npx synack --version prints the package version', async () => {
    const r = await run('npx', ['synack', '--version'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(VERSION);
    expect(r.code).toBe(0);
  });

  it('npx synack read runs from the shipped bundle (read.js moved away) and prints what the checkout prints', async () => {
    for (const file of ['bin/package.json', 'dist/cli/read.bundle.cjs', 'dist/cli/scan.bundle.cjs']) expect(packed).toContain(file);
    // The code cache npm run build wrote for the Node that built it (another Node writes its own on first use).
    expect(packed.some((f) => /^dist\/cli\/read\.bundle\.v[\d.]+-\w+\.v8cache$/.test(f))).toBe(true);
    const capture = join(scratch, 'read.pcap');
    const w = writePcap(capture, { linkType: 'ether' });
    w.write(Ether().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(TCP({ sport: 40000, dport: 80, flags: 'S' })), 1_700_000_000_000_000);
    w.write(Ether().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(UDP({ sport: 40000, dport: 53 })), 1_700_000_000_000_001);
    w.close();
    const expected = await run(process.execPath, [join(ROOT, 'bin', 'synack'), 'read', capture, 'tcp port 80'], scratch);
    expect(expected.stdout).toContain('Flags [S]');
    // Only the bundle can print it now: dist/cli/main.js would import ./read.js.
    const readModule = join(app, 'node_modules', 'synack', 'dist', 'cli', 'read.js');
    renameSync(readModule, `${readModule}.away`);
    try {
      const r = await run('npx', ['synack', 'read', capture, 'tcp port 80'], app, 60_000);
      expect(r.stderr).toBe(`reading from file ${capture}, link-type EN10MB (Ethernet), snapshot length 262144\n`);
      expect(r.stdout).toBe(expected.stdout);
      expect(r.code).toBe(0);
    } finally {
      renameSync(`${readModule}.away`, readModule);
    }
  });

  it.skipIf(!isRoot)('npx synack demo runs the handshake and teardown from the installed package', async () => {
    const r = await run('npx', ['synack', 'demo'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain("received '200 ok', then the server's FIN; final state");
    expect(r.stdout).toMatch(/Flags \[S\.\], seq \d+, ack \d+/);
    expect(r.code).toBe(0);
  });
  if (!isRoot) it.skip('npx synack demo: skipped, it needs root (raw sockets and the RST guard)', () => undefined);

  it.skipIf(!isRoot)('a shipped example runs from node_modules/synack with tsx', async () => {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const r = await run(process.execPath, ['--import', tsx, 'node_modules/synack/examples/closed-port.ts'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Flags \[R\.\]/);
    expect(r.code).toBe(0);
  });

  for (const spec of ['typescript@5', 'typescript@latest']) {
    it(`the README's TypeScript samples type-check with ${spec} (strict, module nodenext)`, async () => {
      const { version, result } = await checks[spec]!;
      console.log(`${spec}: ${version}`);
      if (spec === 'typescript@5') expect(version).toMatch(/^Version 5\./);
      // The compiler's own words on failure, with its version.
      expect(`${version}: ${result.stdout}${result.stderr}`).toBe(`${version}: `);
      expect(result.code).toBe(0);
    }, 180_000);
  }
});

describe('the package installed without its install scripts', () => {
  it('still builds packets: the addons load only when the wire is used', async () => {
    const r = await run('npx', ['synack', 'build', "IP(dst='127.0.0.1')/TCP(dport=80,flags='S')", '--hex'], unbuilt, 60_000);
    expect(r.stdout.trim()).toMatch(/^45000028[0-9a-f]+$/);
    expect(r.code).toBe(0);
  });

  it.skipIf(!isRoot)('npx synack demo fails in one line naming the addon, this Node, allowScripts and the rebuild', async () => {
    const r = await run('npx', ['synack', 'demo'], unbuilt, 60_000);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^synack: the native addon (raw-socket|cap) was installed but never built for Node ${process.version.replace(/\./g, '\\.')} `));
    expect(lines[0]).toContain('"allowScripts": { "raw-socket": true, "cap": true }');
    expect(lines[0]).toContain('`npm rebuild raw-socket cap`');
    expect(r.code).toBe(2);
  });
});
