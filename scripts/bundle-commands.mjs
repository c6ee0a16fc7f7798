/**
 * After tsc: bundles what `synack read`, `synack scan` and `synack conv` run (dist/cli/main.js
 * with that one command and everything it imports, commander included) into one CommonJS file
 * each, dist/cli/read.bundle.cjs, scan.bundle.cjs and conv.bundle.cjs, then runs read and conv
 * once on a small capture so bin/synack writes their V8 code caches beside them (scan's is
 * written by its first real run: it needs root and sends).
 *
 * Why: start-up is part of every comparison with tcpdump, nmap and tshark. Node 20 loads ES modules one
 * file at a time (resolve, read, compile, link: ~60 files for read, more for scan) and keeps no
 * compiled code between runs. One CommonJS file can be compiled by bin/synack through vm.Script
 * with V8's cached data (measured for read of an empty file, CPU: 62 ms as one ES module, 48 ms
 * as one script, 37-40 ms with the code cache; bare `node -e 0` 26-30 ms).
 *
 * bin/synack runs a bundle only when it is at least as new as dist/cli/main.js; every other
 * command loads dist/ as tsc wrote it (a bundle has its own copy of the modules it holds, so one
 * process never mixes the two). Without esbuild (an install without dev dependencies) this says
 * so and leaves no bundle: bin/synack then loads dist/ module by module for every command.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli');
const entry = join(cli, 'main.js');
const BUNDLED = ['read', 'scan', 'conv'];

// Old outputs first: the ES-module read bundle of earlier builds, and code caches of earlier bundles.
for (const name of existsSync(cli) ? readdirSync(cli) : []) {
  if (/\.bundle\.(js|cjs)$|\.v8cache$/.test(name)) rmSync(join(cli, name), { force: true });
}

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.warn('bundle-commands: esbuild is not installed: no bundles (synack loads dist/ module by module)');
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error('bundle-commands: dist/cli/main.js is missing: run tsc first');
  process.exit(1);
}

/**
 * The other commands stay where tsc put them: main.js imports each lazily, and a bundle is run
 * only for its own command word, so main.js never calls them (their import() stays in the file).
 */
const otherCommandsExternal = (command) => ({
  name: 'other-commands-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      if (args.kind !== 'dynamic-import' || args.importer !== entry || args.path === `./${command}.js`) return undefined;
      return { path: args.path, external: true };
    });
  },
});

/**
 * commander requires node:child_process at its top, for executable subcommands (synack has
 * none): that loads some 30 of Node's own modules (net, streams, dgram), 4 ms of CPU at every
 * start, more than a filtered read of a big file spends on its packets. In the bundles
 * commander gets it on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy-child-process' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents: "let loaded; module.exports = new Proxy({}, { get: (_, name) => (loaded ??= require('node:child_process'))[name] });",
      loader: 'js',
    }));
  },
};

/**
 * import.meta does not exist in a script. The only module these bundles hold that reads it is
 * io/addons.ts, to resolve the native addons: from the bundle's own folder that finds the same
 * node_modules. Any other reader would get the wrong folder, so the build refuses it.
 */
const IMPORT_META_READERS = new Set([join(root, 'dist', 'io', 'addons.js')]);

for (const command of BUNDLED) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: join(cli, `${command}.bundle.cjs`),
    bundle: true,
    format: 'cjs',
    // bin/synack decodes the file as latin1, exact only for ASCII: non-ASCII characters are escaped.
    charset: 'ascii',
    // No comments or indentation: less to read and for V8 to scan at each start (names are kept).
    minifyWhitespace: true,
    platform: 'node',
    target: 'node20',
    // The native addons load through createRequire at run time, from node_modules.
    external: ['cap', 'raw-socket'],
    // bin/synack defines __synackBundleUrl (the bundle's file URL) in the function it wraps the bundle in.
    define: { 'import.meta.url': '__synackBundleUrl' },
    metafile: true,
    plugins: [otherCommandsExternal(command), lazyChildProcess],
    logLevel: 'warning',
  });
  const readers = Object.keys(result.metafile.inputs).filter((input) => {
    // The lazy child_process stand-in is made here, not read from a file.
    if (input.startsWith('lazy-child-process:')) return false;
    const path = join(root, input);
    return !IMPORT_META_READERS.has(path) && /\bimport\.meta\b/.test(readFileSync(path, 'utf8'));
  });
  if (!/^[\x00-\x7f]*$/.test(readFileSync(join(cli, `${command}.bundle.cjs`), 'latin1'))) {
    console.error(`bundle-commands: ${command}.bundle.cjs is not ASCII: bin/synack decodes it as latin1`);
    process.exit(1);
  }
  if (readers.length > 0) {
    console.error(`bundle-commands: ${readers.join(', ')} read import.meta, which a ${command} bundle cannot give: keep them out of its import graph`);
    process.exit(1);
  }
}

// Read's and conv's code caches: one run each over a capture with a few kinds of packets (read through a filter).
const dir = mkdtempSync(join(tmpdir(), 'synack-bundle-'));
try {
  const { writePcap, Ether, IP, IPv6, TCP, UDP, ICMP } = await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const capture = join(dir, 'warm.pcap');
  const w = writePcap(capture, { linkType: 'ether' });
  const eth = () => Ether({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' });
  w.write(eth().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(TCP({ sport: 40000, dport: 80, flags: 'S', options: [['MSS', 1460], ['SAckOK'], ['Timestamp', [1, 0]], ['NOP'], ['WScale', 7]] })), 1);
  w.write(eth().add(IP({ src: '198.51.100.2', dst: '198.51.100.1' })).add(TCP({ sport: 80, dport: 40000, flags: 'PA' })).add(Buffer.from('hello')), 2);
  w.write(eth().add(IPv6({ src: '2001:db8::1', dst: '2001:db8::2' })).add(TCP({ sport: 40001, dport: 9000, flags: 'FA' })), 3);
  w.write(eth().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(UDP({ sport: 50000, dport: 41000 })).add(Buffer.alloc(8)), 4);
  w.write(eth().add(IP({ src: '198.51.100.1', dst: '198.51.100.2' })).add(ICMP({ type: 8, id: 1, seq: 1 })).add(Buffer.alloc(8)), 5);
  w.close();
  const run = spawnSync(process.execPath, [join(root, 'bin', 'synack'), 'read', capture, 'tcp port 80 or ip6 or icmp or udp'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (run.status !== 0) {
    console.error(`bundle-commands: the read bundle failed its first run: ${run.stderr.trim()}`);
    process.exit(1);
  }
  const conv = spawnSync(process.execPath, [join(root, 'bin', 'synack'), 'conv', capture, '-t', 'all'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  if (conv.status !== 0) {
    console.error(`bundle-commands: the conv bundle failed its first run: ${conv.stderr.trim()}`);
    process.exit(1);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
