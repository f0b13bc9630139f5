import { Counter, Gauge, Registry, type MetricValue } from 'prom-client';
import type { Histogram } from 'hdr-histogram-js';
import { STAGES, type StageName } from '../metrics/StageHistograms.js';

/** What the exporter reads at each scrape (the supervisor over the engine; tests pass fakes). */
export interface MetricsSource {
  /** worker counters by worker name (monotonic counts and current gauges mixed: see COUNTERS) */
  counters(): Record<string, Record<string, number>>;
  /** cumulative stage histogram (ns), or undefined when the engine is not running */
  stageHistogram(stage: StageName): Histogram | undefined;
  gc(): Record<string, { minor: number; major: number; pauseMs: number }>;
  rings(): Array<{ name: string; depth: number; capacity: number }>;
  tradingState(): number;
}

/** Worker counters exported as Prometheus counters (monotonic); every other numeric counter is a gauge. */
const COUNTERS: Record<string, readonly string[]> = {
  feed: ['frames', 'records', 'decodeErrors', 'ignored', 'unknownSymbol', 'reconnects', 'ringDrops'],
  strategy: ['marketRecords', 'reports', 'intents', 'riskRejects', 'ringFullRejects', 'fills', 'acks', 'rejects', 'cancels', 'amends', 'notLiveRejects', 'killSwitches'],
  execution: ['sent', 'responses', 'acks', 'fills', 'rejects', 'expired', 'canceled', 'unknown', 'transportErrors', 'filterRejects', 'budgetRejects', 'conditionals', 'amends'],
};
const GAUGES: Record<string, readonly string[]> = {
  strategy: ['position', 'equity', 'realizedPnl', 'fees', 'inflight', 'flattenState'],
  execution: ['inFlight'],
};

/** Latency buckets (seconds): 1 µs .. 1 s, the range a tick-to-order path spans. */
const BUCKETS_S = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 1];

/**
 * The engine's metrics in Prometheus text format (prom-client): per-stage latency as histograms (from the
 * merged HDR histograms, bucketed at scrape time), worker counters as counters, positions, PnL, ring depths,
 * GC counts and pause time, and the trading state as gauges. Everything is read at scrape time.
 */
export class EngineMetrics {
  readonly registry = new Registry();

  constructor(private readonly src: MetricsSource) {
    const reg = this.registry;
    const self = this;
    const last = new Map<string, number>();
    new Counter({
      name: 'hft_worker_events_total',
      help: 'Worker event counts (frames, intents, fills, rejects...) by worker and counter name',
      labelNames: ['worker', 'counter'],
      registers: [reg],
      collect() {
        const all = self.src.counters();
        for (const [worker, names] of Object.entries(COUNTERS)) {
          const c = all[worker] ?? {};
          for (const n of names) {
            const v = c[n];
            if (typeof v !== 'number') continue;
            const key = `${worker}/${n}`;
            const prev = last.get(key) ?? 0;
            // a restarted engine starts its counts again: count from there
            const d = v >= prev ? v - prev : v;
            if (d > 0) this.inc({ worker, counter: n }, d);
            else if (!last.has(key)) this.inc({ worker, counter: n }, 0);
            last.set(key, v);
          }
        }
      },
    });
    new Gauge({
      name: 'hft_worker_gauge',
      help: 'Worker state values (position, equity, realized PnL, fees, orders in flight) by worker and name',
      labelNames: ['worker', 'name'],
      registers: [reg],
      collect() {
        const all = self.src.counters();
        for (const [worker, names] of Object.entries(GAUGES)) {
          const c = all[worker] ?? {};
          for (const n of names) if (typeof c[n] === 'number' && Number.isFinite(c[n])) this.set({ worker, name: n }, c[n]!);
        }
      },
    });
    new Gauge({
      name: 'hft_ring_depth',
      help: 'Records waiting in each ring',
      labelNames: ['ring'],
      registers: [reg],
      collect() {
        for (const r of self.src.rings()) this.set({ ring: r.name }, r.depth);
      },
    });
    new Gauge({
      name: 'hft_trading_state',
      help: 'Trading state: 0 ACTIVE, 1 REDUCE_ONLY, 2 HALTED',
      registers: [reg],
      collect() {
        this.set(self.src.tradingState());
      },
    });
    const gcLast = new Map<string, number>();
    new Counter({
      name: 'hft_gc_total',
      help: 'Garbage collections by worker and kind (minor = scavenge)',
      labelNames: ['worker', 'kind'],
      registers: [reg],
      collect() {
        for (const [worker, g] of Object.entries(self.src.gc())) {
          for (const kind of ['minor', 'major'] as const) {
            const key = `${worker}/${kind}`;
            const prev = gcLast.get(key) ?? 0;
            const d = g[kind] >= prev ? g[kind] - prev : g[kind];
            this.inc({ worker, kind }, d > 0 ? d : 0);
            gcLast.set(key, g[kind]);
          }
        }
      },
    });
    new Gauge({
      name: 'hft_gc_pause_seconds',
      help: 'Total GC pause time by worker since the engine started',
      labelNames: ['worker'],
      registers: [reg],
      collect() {
        for (const [worker, g] of Object.entries(self.src.gc())) this.set({ worker }, g.pauseMs / 1000);
      },
    });
    reg.registerMetric(new StageLatencyCollector(src) as never);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * `hft_stage_latency_seconds` as a Prometheus histogram: per stage, cumulative bucket counts read from the
 * merged HDR histogram (ns) at scrape time. prom-client's Histogram takes observations one by one; the
 * engine already keeps exact histograms, so this collector reports them instead of re-observing.
 */
class StageLatencyCollector {
  readonly name = 'hft_stage_latency_seconds';
  readonly help = 'Per-stage latency of the hot path (decode, hopA, strategy, hopB, send, tickToOrder, venueRtt)';
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(private readonly src: MetricsSource) {}

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<MetricValue<string> & { metricName: string }> }> {
    const values: Array<MetricValue<string> & { metricName: string }> = [];
    for (const stage of STAGES) {
      const h = this.src.stageHistogram(stage);
      const counts = new Array<number>(BUCKETS_S.length).fill(0);
      let total = 0;
      let sumNs = 0;
      if (h !== undefined && h.totalCount > 0) {
        const it = (h as unknown as { recordedValuesIterator: RecordedValues }).recordedValuesIterator;
        it.reset();
        while (it.hasNext()) {
          const v = it.next();
          const ns = v.valueIteratedTo;
          const n = v.countAtValueIteratedTo;
          total += n;
          sumNs += ns * n;
          for (let i = 0; i < BUCKETS_S.length; i++) if (ns <= BUCKETS_S[i]! * 1e9) counts[i]! += n;
        }
      }
      for (let i = 0; i < BUCKETS_S.length; i++) values.push({ metricName: `${this.name}_bucket`, labels: { stage, le: String(BUCKETS_S[i]) }, value: counts[i]! });
      values.push({ metricName: `${this.name}_bucket`, labels: { stage, le: '+Inf' }, value: total });
      values.push({ metricName: `${this.name}_sum`, labels: { stage }, value: sumNs / 1e9 });
      values.push({ metricName: `${this.name}_count`, labels: { stage }, value: total });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values });
  }

  reset(): void {}
}

interface RecordedValues {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}
