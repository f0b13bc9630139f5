import * as hdr from 'hdr-histogram-js';

/** The pipeline stages of design.md §4, in report order. */
export const STAGES = ['decode', 'hopA', 'strategy', 'hopB', 'send', 'tickToOrder', 'venueRtt'] as const;
export type StageName = (typeof STAGES)[number];

/** Percentiles of one stage, nanoseconds. */
export interface StageSummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Highest trackable value: 60 s in ns. Values above are clamped (and counted as such by the caller). */
const HIGHEST_NS = 60_000_000_000;

let wasmReady = false;
/** Load the WASM build once per thread (records in ~20 ns vs ~120 ns for the pure-JS build). */
export async function initHistograms(): Promise<void> {
  if (wasmReady) return;
  await hdr.initWebAssembly();
  wasmReady = true;
}

export function newHistogram(useWebAssembly = wasmReady): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_NS,
    numberOfSignificantValueDigits: 3,
    useWebAssembly,
  });
}

export function summarize(h: hdr.Histogram): StageSummary {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}

/**
 * A set of per-stage histograms owned by one thread. `record` is allocation-free; `snapshot` encodes
 * the stages recorded since the last snapshot (compressed base64, as hdr-histogram-js encodes) for
 * shipping to main, then resets them.
 */
export class StageHistograms {
  private readonly hists = new Map<StageName, hdr.Histogram>();
  private readonly list: hdr.Histogram[] = [];

  constructor(stages: readonly StageName[]) {
    for (const s of stages) {
      const h = newHistogram();
      this.hists.set(s, h);
      this.list.push(h);
    }
  }

  /** The histogram of one stage, to hold in a field and record into on the hot path. */
  get(stage: StageName): hdr.Histogram {
    const h = this.hists.get(stage);
    if (!h) throw new Error(`StageHistograms: stage ${stage} is not kept here`);
    return h;
  }

  /** Encoded deltas since the last snapshot; resets the histograms. */
  snapshot(): Partial<Record<StageName, string>> {
    const out: Partial<Record<StageName, string>> = {};
    for (const [name, h] of this.hists) {
      if (h.totalCount > 0) {
        out[name] = hdr.encodeIntoCompressedBase64(h);
        h.reset();
      }
    }
    return out;
  }

  destroy(): void {
    for (const h of this.list) h.destroy();
  }
}

/** Records a non-negative ns value, clamping to the trackable range. */
export function recordNs(h: hdr.Histogram, ns: number): void {
  h.recordValue(ns < 1 ? 1 : ns > HIGHEST_NS ? HIGHEST_NS : ns);
}

/**
 * Main-thread merge of the snapshots shipped by workers: a cumulative and an interval view per stage.
 * Uses the pure-JS build (off the hot path, and independent of when WASM finished loading).
 */
export class StageMerger {
  private readonly total = new Map<StageName, hdr.Histogram>();
  private readonly interval = new Map<StageName, hdr.Histogram>();

  constructor() {
    for (const s of STAGES) {
      this.total.set(s, newHistogram(false));
      this.interval.set(s, newHistogram(false));
    }
  }

  add(snap: Partial<Record<StageName, string>>): void {
    for (const s of STAGES) {
      const enc = snap[s];
      if (!enc) continue;
      const h = hdr.decodeFromCompressedBase64(enc, 32, false);
      this.total.get(s)!.add(h);
      this.interval.get(s)!.add(h);
      h.destroy();
    }
  }

  /** Summaries since start. */
  totals(): Record<StageName, StageSummary> {
    return mapStages((s) => summarize(this.total.get(s)!));
  }

  /** Summaries since the previous call (then resets the interval view). */
  takeInterval(): Record<StageName, StageSummary> {
    const r = mapStages((s) => summarize(this.interval.get(s)!));
    for (const h of this.interval.values()) h.reset();
    return r;
  }

  /** Reset the cumulative view (e.g. at the end of a warm-up). */
  resetTotals(): void {
    for (const h of this.total.values()) h.reset();
  }

  histogram(stage: StageName): hdr.Histogram {
    return this.total.get(stage)!;
  }
}

function mapStages<T>(f: (s: StageName) => T): Record<StageName, T> {
  const r = {} as Record<StageName, T>;
  for (const s of STAGES) r[s] = f(s);
  return r;
}

/** A fixed-width text table of stage summaries in microseconds. */
export function formatStageTable(rows: Record<string, StageSummary>, title = 'stage'): string {
  const us = (ns: number): string => (ns / 1000).toFixed(ns < 10_000 ? 2 : 1);
  const head = [title.padEnd(14), 'count'.padStart(9), 'p50 us'.padStart(10), 'p90 us'.padStart(10), 'p99 us'.padStart(10), 'p99.9 us'.padStart(10), 'max us'.padStart(10)].join(' ');
  const lines = [head];
  for (const [name, s] of Object.entries(rows)) {
    lines.push([name.padEnd(14), String(s.count).padStart(9), us(s.p50).padStart(10), us(s.p90).padStart(10), us(s.p99).padStart(10), us(s.p999).padStart(10), us(s.max).padStart(10)].join(' '));
  }
  return lines.join('\n');
}
