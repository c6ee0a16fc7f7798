/**
 * Scheduling jitter, measured: how late this process's timers run. A busy machine delays a
 * timer (our '<' segment leaves late) and the capture's event (a '>' segment is stamped late)
 * by the same few milliseconds, so a script's timing allowance must include it from the first
 * line, before any RTT is known. A short probe before the run gives the first figure; a timer
 * ticking every few milliseconds keeps the worst lateness up to date during the run.
 * (perf_hooks' monitorEventLoopDelay was tried first: under vitest's fork it reported 18 ms
 * for a 60 ms stall, so the lateness is measured here directly.)
 */

/** Timer probes before the first line. */
const PROBES = 8;
/** How often the run-time sampler ticks, ms. */
const TICK_MS = 2;
/** The allowance never grows past this: a stall longer than a second is a failure worth seeing. */
const MAX_ALLOWANCE = 1;

export class JitterMeter {
  private probed = 0;
  private worstLoop = 0;
  private ticker: NodeJS.Timeout | undefined;

  /** Probes timer lateness, then starts watching it. */
  async start(): Promise<void> {
    let worst = 0;
    for (let i = 0; i < PROBES; i++) {
      const asked = 1;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, asked));
      worst = Math.max(worst, performance.now() - t0 - asked);
    }
    this.probed = worst / 1000;
    let last = performance.now();
    this.ticker = setInterval(() => {
      const now = performance.now();
      this.worstLoop = Math.max(this.worstLoop, (now - last - TICK_MS) / 1000);
      last = now;
    }, TICK_MS);
    this.ticker.unref();
  }

  /**
   * Seconds: the worst lateness seen so far. A time is checked as the gap between two stamps
   * (the previous event's and this arrival's), each late by 0 to that delay, so the gap is off
   * by at most the worst delay once.
   */
  allowance(): number {
    return Math.min(MAX_ALLOWANCE, Math.max(this.probed, this.worstLoop));
  }

  /** For diagnosis: the probe's and the run's worst lateness, in ms. */
  figures(): { probe: number; run: number } {
    return { probe: this.probed * 1000, run: this.worstLoop * 1000 };
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}
