/**
 * Letting a program end when the user's code is done. A capture's poll handle (cap) keeps the
 * event loop alive for as long as the capture is open, and it cannot be unref'd from
 * JavaScript; a program that forgot `c.close()` would wait on it forever. So whatever holds such
 * a handle registers here: one unref'd interval looks, now and then, at what else keeps the
 * loop alive, and when nothing does (no timer of a pending await, no socket, no child of the
 * user's), the user's code is done and every registered release runs (captures closed, guards
 * removed), so the process exits on its own.
 *
 * `process.getActiveResourcesInfo()` lists only what Node knows and what is ref'd: an addon's
 * libuv handles and unref'd timers are not in it, which is exactly the distinction wanted.
 */

const CHECK_MS = 100;
const releases = new Set<() => void>();
let timer: NodeJS.Timeout | undefined;

/** Runs `release` once the event loop has nothing else to do; returns the way to unregister. */
export function releaseWhenIdle(release: () => void): () => void {
  releases.add(release);
  if (!timer) {
    timer = setInterval(check, CHECK_MS);
    timer.unref();
  }
  return () => {
    releases.delete(release);
    if (releases.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * Nothing ref'd but addon handles: what a forgotten close() looks like. stdout and stderr,
 * once written to a pipe or a terminal, are listed too (as PipeWrap or TTYWrap) although they
 * never keep a program from ending; they are taken off the list first.
 */
export function loopIsIdle(): boolean {
  const active = process.getActiveResourcesInfo();
  for (const stream of [process.stdout, process.stderr]) {
    const kind = (stream as unknown as { _handle?: { constructor?: { name?: string } } })._handle?.constructor?.name;
    const listed = kind === 'Pipe' ? 'PipeWrap' : kind === 'TTY' ? 'TTYWrap' : undefined;
    const at = listed ? active.indexOf(listed) : -1;
    if (at >= 0) active.splice(at, 1);
  }
  return active.length === 0;
}

function check(): void {
  if (!loopIsIdle()) return;
  const all = [...releases];
  releases.clear();
  clearInterval(timer);
  timer = undefined;
  for (const release of all) release();
}
