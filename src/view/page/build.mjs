// Bundles the view's page (src/view/page/main.ts, its styles and the synack modules it uses)
// into one script, dist/view/page.js, that src/view/html.ts inlines into every view. Run by
// `npm run build` after tsc. esbuild: one dependency-free binary, milliseconds per build.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

await build({
  entryPoints: [here('./main.ts')],
  outfile: here('../../../dist/view/page.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'chrome110',
  minify: true,
  legalComments: 'none',
  loader: { '.css': 'text' },
  inject: [here('./buffer-shim.ts')],
  logLevel: 'warning',
  plugins: [
    {
      name: 'node-fs',
      setup(b) {
        b.onResolve({ filter: /^node:fs$/ }, () => ({ path: here('./fs-shim.ts') }));
        b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `${args.path} has no place in the page (imported by ${args.importer})` }] }));
      },
    },
  ],
});
