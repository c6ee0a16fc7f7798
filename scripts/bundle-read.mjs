/**
 * After tsc: bundles what `synack read` runs (dist/cli/main.js with the read command and
 * everything it imports, commander included) into one file, dist/cli/read.bundle.js. Node 20
 * loads ES modules one file at a time (resolve, read, compile, link): for the ~60 modules of
 * the read path that was most of the start-up, which `synack read FILE FILTER` pays in full
 * beside tcpdump. bin/synack runs the bundle for `synack read` only, and only when it is at least
 * as new as dist/cli/main.js; every other command loads dist/ as tsc wrote it (the bundle has its
 * own copy of the modules it holds, so one process never mixes the two).
 *
 * Without esbuild (an install without dev dependencies) this says so and leaves no bundle:
 * bin/synack then runs dist/cli/main.js for read too.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli', 'main.js');
const outfile = join(root, 'dist', 'cli', 'read.bundle.js');

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  rmSync(outfile, { force: true });
  console.warn('bundle-read: esbuild is not installed: no read bundle (synack read loads dist/ module by module)');
  process.exit(0);
}
if (!existsSync(entry)) {
  console.error('bundle-read: dist/cli/main.js is missing: run tsc first');
  process.exit(1);
}

/** The other commands stay where tsc put them: main.js imports each lazily, and read never calls them. */
const otherCommandsExternal = {
  name: 'other-commands-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => {
      if (args.kind !== 'dynamic-import' || args.importer !== entry || args.path === './read.js') return undefined;
      return { path: args.path, external: true };
    });
  },
};

await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The native addons load through createRequire at run time, from node_modules.
  external: ['cap', 'raw-socket'],
  // commander is CommonJS and require()s Node's modules: give the bundle a require().
  banner: { js: "import { createRequire as __synackCreateRequire } from 'node:module';\nconst require = __synackCreateRequire(import.meta.url);" },
  plugins: [otherCommandsExternal],
  logLevel: 'warning',
});
