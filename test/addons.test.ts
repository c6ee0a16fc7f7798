/**
 * The native addons fail in one line: not installed, installed without their build (npm 11 skipped
 * the install script), or built for another Node. The last case is the real thing: another Node
 * binary (the machine's, or one that .ci/run cached) loads the addons built for this one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon, type AddonName } from '../src/io/addons.js';
import { SynackError } from '../src/wire/errors.js';

const repo = new URL('..', import.meta.url).pathname;
const ADDONS: readonly AddonName[] = ['raw-socket', 'cap'];
const scratch = mkdtempSync(join(tmpdir(), 'synack-addons-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function failureOf(name: AddonName, from: string): SynackError {
  try {
    loadAddon(name, from);
  } catch (err) {
    expect(err).toBeInstanceOf(SynackError);
    return err as SynackError;
  }
  throw new Error(`${name} loaded from ${from}`);
}

/** A project holding a copy of the installed package without its build/ folder: what npm 11 leaves when it skips the install script. */
function projectWithoutBuild(name: AddonName): string {
  const project = join(scratch, `unbuilt-${name}`);
  cpSync(join(repo, 'node_modules', name), join(project, 'node_modules', name), {
    recursive: true,
    filter: (source) => !source.includes(`${name}/build`),
  });
  return join(project, 'index.js');
}

describe('an addon that cannot load', () => {
  for (const name of ADDONS) {
    it(`${name} not installed: one line naming it, this Node, and npm install`, () => {
      const err = failureOf(name, join(scratch, 'empty', 'index.js'));
      expect(err.message).not.toContain('\n');
      expect(err.message).toContain(`the native addon ${name} is not installed (Node ${process.version})`);
      expect(err.message).toContain('`npm install`');
      expect(err.kind).toBe('system');
    });

    it(`${name} installed without its build: allowScripts and the rebuild command`, () => {
      const err = failureOf(name, projectWithoutBuild(name));
      expect(err.message).not.toContain('\n');
      expect(err.message).toContain(`the native addon ${name} was installed but never built for Node ${process.version}`);
      expect(err.message).toContain('"allowScripts": { "raw-socket": true, "cap": true }');
      expect(err.message).toContain('`npm rebuild raw-socket cap`');
      expect(err.message).not.toContain('Release');
    });
  }
});

/** Another Node binary whose addon ABI differs from this one's: the machine's node, or one cached by .ci/run. */
function otherNode(): string | undefined {
  const cache = join(repo, '.ci', 'cache');
  const cached = existsSync(cache) ? readdirSync(cache).map((d) => join(cache, d, 'bin', 'node')) : [];
  const onPath = spawnSync('which', ['-a', 'node'], { encoding: 'utf8' }).stdout.split('\n');
  for (const candidate of [...onPath, '/usr/bin/node', ...cached]) {
    if (!candidate || !existsSync(candidate)) continue;
    const abi = spawnSync(candidate, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).stdout.trim();
    if (abi && abi !== process.versions.modules) return candidate;
  }
  return undefined;
}

describe('addons built for another Node', () => {
  const other = otherNode();
  if (!other) {
    const reason = `no Node binary with an ABI other than ${process.versions.modules} here (.ci/run caches one in .ci/cache)`;
    if (process.env.CI === 'true') it('needs another Node binary', () => expect.fail(reason));
    else it.skip(`skipped: ${reason}`, () => undefined);
    return;
  }
  const builtFor = `Node ${process.versions.node.split('.')[0]}`;
  for (const name of ADDONS) {
    it(`${name} on ${other}: one line, built for ${builtFor}, the rebuild command, no stack`, () => {
      const fn = name === 'cap' ? 'capAddon' : 'rawSocketAddon';
      const code = `const m = await import(${JSON.stringify(join(repo, 'src/io/addons.ts'))});
        try { m.${fn}(); console.log('loaded'); } catch (e) { console.log(process.version + '|' + e.name + '|' + e.message); }`;
      const out = execFileSync(other, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: repo, encoding: 'utf8', timeout: 30_000 }).trim();
      const [version, errorName, message] = out.split('|');
      expect(errorName).toBe('SynackError');
      expect(message).toBe(
        `the native addon ${name} was built for ${builtFor}, not for this Node ${version}: run \`npm rebuild raw-socket cap\` in your project` +
          (Number(version!.slice(1).split('.')[0]) >= 24 ? ' with "overrides": { "raw-socket": { "nan": "^2.22.0" } } in package.json (Node 24 and later)' : ''),
      );
      expect(out.split('\n')).toHaveLength(1);
    });
  }
});
