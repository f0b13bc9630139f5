import { PerformanceObserver, constants } from 'node:perf_hooks';
import type { GcCounts } from '../engine/messages.js';

/**
 * Counts this thread's garbage collections (minor = scavenges). Entries are delivered on the event loop,
 * so a thread that spins must yield now and then for them to be counted (the strategy worker yields at
 * each housekeeping slice).
 */
export class GcCounter {
  private readonly counts: GcCounts = { minor: 0, major: 0, pauseMs: 0 };
  private readonly obs: PerformanceObserver;

  constructor() {
    this.obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = ((e as unknown as { detail?: { kind?: number } }).detail)?.kind;
        // Incremental-marking steps and weak-callback passes are parts of a major GC, not extra collections.
        if (kind === constants.NODE_PERFORMANCE_GC_MINOR) this.counts.minor++;
        else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) this.counts.major++;
        this.counts.pauseMs += e.duration;
      }
    });
    this.obs.observe({ entryTypes: ['gc'] });
  }

  /** Counts since the previous call. */
  take(): GcCounts {
    const c = { ...this.counts };
    this.counts.minor = 0;
    this.counts.major = 0;
    this.counts.pauseMs = 0;
    return c;
  }

  close(): void {
    this.obs.disconnect();
  }
}
