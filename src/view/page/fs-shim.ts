/**
 * node:fs for the page: show() and the filter compiler read /etc/services and /etc/protocols
 * for names. A page cannot read files, so the view carries those files' text (model.ts) and
 * this answers from it; any other path is missing, as a missing file is in Node.
 */
const files = new Map<string, string>();

/** Called once by the page with ViewData.files. */
export function provideFiles(given: Record<string, string>): void {
  for (const [path, text] of Object.entries(given)) files.set(path, text);
}

/** @public node:fs's readFileSync for the bundle (build.mjs maps node:fs here). */
export function readFileSync(path: string): string {
  const text = files.get(path);
  if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file, open '${path}'`), { code: 'ENOENT' });
  return text;
}
