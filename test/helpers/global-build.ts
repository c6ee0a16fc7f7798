// Builds dist/ once before any test file starts: offline files run side by side, and two of
// them finding dist/ stale at once would run two compilers over the same output.
import { ensureBuilt } from './cli.js';

export default function setup(): void {
  ensureBuilt();
}
