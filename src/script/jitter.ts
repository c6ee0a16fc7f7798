/**
 * Scheduling jitter, measured: how late this process's timers run. A busy machine delays a
 * timer (our '<' segment leaves late) and the capture's event (a '>' segment is stamped late)
 * by the same few milliseconds, so a script's timing allowance must include it from the first
 * line, before any RTT is known. A short probe before the run gives the first figure; the
 * event loop's delay histogram, sampled every millisecond, keeps it up to date during the run.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Timer probes before the first line. */
const PROBES = 8;
/** The allowance never grows past this: a stall longer than a second is a failure worth seeing. */
const MAX_ALLOWANCE = 1;

export class JitterMeter {
  private probed = 0;
  private histogram: IntervalHistogram | undefined;

  /** Probes timer lateness, then starts watching the event loop. */
  async start(): Promise<void> {
    let worst = 0;
    for (let i = 0; i < PROBES; i++) {
      const asked = 1;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, asked));
      worst = Math.max(worst, performance.now() - t0 - asked);
    }
    this.probed = worst / 1000;
    this.histogram = monitorEventLoopDelay({ resolution: 1 });
    this.histogram.enable();
  }

  /**
   * Seconds: the worst delay seen so far. A time is checked as the gap between two stamps
   * (the previous event's and this arrival's), each late by 0 to that delay, so the gap is off
   * by at most the worst delay once.
   */
  allowance(): number {
    const loop = this.histogram && this.histogram.count > 0 ? Math.max(0, this.histogram.max / 1e9 - 0.001) : 0;
    return Math.min(MAX_ALLOWANCE, Math.max(this.probed, loop));
  }

  /** For diagnosis: the probe and the loop's figures, in ms. */
  figures(): { probe: number; loopMax: number; loopP99: number } {
    const h = this.histogram;
    return { probe: this.probed * 1000, loopMax: h ? h.max / 1e6 : 0, loopP99: h && h.count ? h.percentile(99) / 1e6 : 0 };
  }

  stop(): void {
    this.histogram?.disable();
  }
}
