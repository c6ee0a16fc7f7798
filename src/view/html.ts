/**
 * The view as one HTML file: the page's script (built by `npm run build` into dist/view/page.js,
 * styles included) and the data, inline. Nothing is fetched: the page's Content-Security-Policy
 * allows no network at all (default-src 'none'), so it opens the same from file://, offline,
 * or from `synack view`'s local server. 'unsafe-eval' is there for the filter compiler, which
 * turns an expression into a function with `new Function` as it does in Node.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SynackError } from '../wire/errors.js';
import type { ViewData } from './data.js';

/** Where the built page script is: beside this module in dist/, or in dist/ when run from src/. */
const CANDIDATES = [new URL('./page.js', import.meta.url), new URL('../../dist/view/page.js', import.meta.url)];

let script: string | undefined;

function pageScript(): string {
  if (script !== undefined) return script;
  for (const url of CANDIDATES) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return (script = readFileSync(path, 'utf8'));
  }
  throw new SynackError('the view page is not built: run `npm run build` in the synack folder', 'usage');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** JSON safe inside a <script> element: no '</script>', no '<!--'. */
const inlineJson = (data: ViewData): string => JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

export function renderViewHtml(data: ViewData): string {
  const code = pageScript().replace(/<\/script/gi, '<\\/script');
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(data.title)} - synack view</title></head><body>`,
    `<script type="application/json" id="synack-data">${inlineJson(data)}</script>`,
    `<script>${code}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
