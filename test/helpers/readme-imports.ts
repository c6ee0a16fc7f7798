/**
 * The README's ```ts blocks each import what they use, so names repeat across blocks; tests that
 * join the blocks into one module need one import per module, names merged.
 */
export function mergeImports(imports: readonly string[]): string[] {
  const named = new Map<string, Set<string>>();
  const other = new Set<string>();
  for (const line of imports) {
    const m = /^import\s*\{([^}]*)\}\s*from\s*'([^']+)';?\s*$/.exec(line);
    if (!m) {
      other.add(line);
      continue;
    }
    const names = named.get(m[2]!) ?? new Set<string>();
    for (const n of m[1]!.split(',').map((x) => x.trim()).filter(Boolean)) names.add(n);
    named.set(m[2]!, names);
  }
  return [...[...named].map(([from, names]) => `import { ${[...names].join(', ')} } from '${from}';`), ...other];
}
