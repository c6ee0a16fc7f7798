/**
 * A process-wide registry of things to release (raw sockets, captures, firewall rules) when
 * the process is interrupted. Signal handlers are installed only while something is
 * registered, so an idle synack leaves the process's signal behaviour alone.
 */

type Cleanup = () => void;

const pending = new Set<Cleanup>();
let installed = false;

/** Registers `fn` to run on SIGINT, SIGTERM or exit; returns the function that unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  pending.add(fn);
  install();
  return () => {
    pending.delete(fn);
    if (pending.size === 0) uninstall();
  };
}

/** Runs every registered cleanup now (each once), e.g. from a test's afterAll. */
export function runCleanups(): void {
  const all = [...pending];
  pending.clear();
  uninstall();
  for (const fn of all) {
    try {
      fn();
    } catch {
      // A cleanup that fails must not stop the others from running.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  // With no other listener, behave as the default would have: die of the same signal
  // (exit status 128+n), now that the sockets and captures are released.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function onExit(): void {
  runCleanups();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('exit', onExit);
}
