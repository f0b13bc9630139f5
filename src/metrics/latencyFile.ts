import { readFileSync, writeFileSync } from 'node:fs';
import type { Histogram } from 'hdr-histogram-js';

/**
 * Latency histogram file (`hft run --latency-out FILE`, read by the simulator's latency model):
 *
 * ```json
 * {
 *   "format": "hft-latency-histogram",
 *   "version": 1,
 *   "unit": "ns",
 *   "createdAt": "2026-01-01T00:00:00.000Z",
 *   "durationS": 60.2,
 *   "stages": {
 *     "venueRtt":    { "count": 1234, "min": 61000, "max": 910000, "p50": 88000, "p90": 120000, "p99": 300000, "p999": 800000,
 *                      "percentiles": [[0, 61000], [50, 88000], [75, 97000], ..., [100, 910000]] },
 *     "tickToOrder": { ... }
 *   }
 * }
 * ```
 *
 * `percentiles` is the distribution itself: [percentile 0..100, value] pairs, both non-decreasing, from the
 * minimum (0) to the maximum (100), spaced HDR-style (5 ticks per halving of the distance to 100, so the
 * tail is as well described as the body). A reader replays it by inverse transform: a uniform draw in
 * [0, 100] interpolated linearly between neighbouring pairs. Instead of `percentiles` a stage may carry
 * `buckets`: [upper value, count] pairs in increasing value order (a value falls in the first bucket whose
 * upper bound is >= it); readers turn them into percentiles. `unit` may be "ns", "us" or "ms". The p50..p999
 * fields are for people; readers use `percentiles` / `buckets` only.
 */
export const LATENCY_FILE_FORMAT = 'hft-latency-histogram';

export interface LatencyStageEntry {
  count: number;
  min?: number;
  max?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  p999?: number;
  percentiles?: Array<[number, number]>;
  buckets?: Array<[number, number]>;
}

export interface LatencyFile {
  format: typeof LATENCY_FILE_FORMAT;
  version: 1;
  unit: 'ns' | 'us' | 'ms';
  createdAt?: string;
  durationS?: number;
  stages: Record<string, LatencyStageEntry>;
}

/** Percentile points written per stage: 0, then 5 per halving of the distance to 100 down to 1e-5 %, then 100. */
function percentileLadder(): number[] {
  const out = [0];
  for (let k = 1; ; k++) {
    const p = 100 * (1 - Math.pow(0.5, k / 5));
    if (100 - p < 1e-5) break;
    out.push(p);
  }
  out.push(100);
  return out;
}
const LADDER = percentileLadder();

/** One stage of the file from an HDR histogram (ns values). */
export function stageEntry(h: Histogram): LatencyStageEntry {
  const count = h.totalCount;
  if (count === 0) return { count: 0, percentiles: [] };
  const pts: Array<[number, number]> = [];
  let last = -1;
  for (const p of LADDER) {
    // The minimum's bucket for 0 (getValueAtPercentile(0) answers the lowest bucket's upper edge anyway).
    const v = p === 0 ? h.minNonZeroValue : p === 100 ? h.maxValue : h.getValueAtPercentile(p);
    const value = Math.max(v, last);
    // Within a run of one value only its first and last points matter: they keep the step of a sparse
    // histogram (interpolation then spans only the gap between two ladder points, not the whole run).
    const n = pts.length;
    if (n >= 2 && value === last && pts[n - 2]![1] === value) pts[n - 1]![0] = round6(p);
    else pts.push([round6(p), value]);
    last = value;
  }
  return {
    count,
    min: h.minNonZeroValue,
    max: h.maxValue,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    percentiles: pts,
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/** The file for a set of stage histograms (ns); stages that recorded nothing are left out. */
export function latencyFileFrom(hists: Record<string, Histogram>, durationS?: number): LatencyFile {
  const stages: Record<string, LatencyStageEntry> = {};
  for (const [name, h] of Object.entries(hists)) if (h.totalCount > 0) stages[name] = stageEntry(h);
  return {
    format: LATENCY_FILE_FORMAT,
    version: 1,
    unit: 'ns',
    createdAt: new Date().toISOString(),
    ...(durationS !== undefined ? { durationS: Math.round(durationS * 1000) / 1000 } : {}),
    stages,
  };
}

export function writeLatencyFile(path: string, file: LatencyFile): void {
  writeFileSync(path, JSON.stringify(file, null, 1) + '\n');
}

export class LatencyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LatencyFileError';
  }
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6 };

function isPairs(v: unknown): v is Array<[number, number]> {
  return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'number' && typeof p[1] === 'number' && Number.isFinite(p[0]) && Number.isFinite(p[1]));
}

/** Checks a parsed file; throws LatencyFileError saying what is wrong. */
export function validateLatencyFile(j: unknown, where = 'latency file'): LatencyFile {
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new LatencyFileError(`${where}: not a JSON object`);
  const o = j as Record<string, unknown>;
  if (o['format'] !== LATENCY_FILE_FORMAT) throw new LatencyFileError(`${where}: "format" must be "${LATENCY_FILE_FORMAT}"`);
  if (o['version'] !== 1) throw new LatencyFileError(`${where}: unsupported version ${String(o['version'])}`);
  const unit = o['unit'] ?? 'ns';
  if (typeof unit !== 'string' || UNIT_NS[unit] === undefined) throw new LatencyFileError(`${where}: "unit" must be ns, us or ms`);
  const stages = o['stages'];
  if (typeof stages !== 'object' || stages === null || Array.isArray(stages)) throw new LatencyFileError(`${where}: "stages" must be an object`);
  for (const [name, s] of Object.entries(stages as Record<string, unknown>)) {
    if (typeof s !== 'object' || s === null) throw new LatencyFileError(`${where}: stage ${name} is not an object`);
    const e = s as Record<string, unknown>;
    if (e['percentiles'] !== undefined) {
      if (!isPairs(e['percentiles'])) throw new LatencyFileError(`${where}: stage ${name}: "percentiles" must be [percentile, value] pairs`);
      let lp = -1;
      let lv = -Infinity;
      for (const [p, v] of e['percentiles']) {
        if (p < lp || p < 0 || p > 100 || v < lv || v < 0) throw new LatencyFileError(`${where}: stage ${name}: percentiles must be non-decreasing, within 0..100, values >= 0`);
        lp = p;
        lv = v;
      }
    } else if (e['buckets'] !== undefined) {
      if (!isPairs(e['buckets'])) throw new LatencyFileError(`${where}: stage ${name}: "buckets" must be [upper value, count] pairs`);
      let lv = -Infinity;
      for (const [v, c] of e['buckets']) {
        if (v <= lv || v < 0 || c < 0) throw new LatencyFileError(`${where}: stage ${name}: buckets must have increasing upper values >= 0 and counts >= 0`);
        lv = v;
      }
    } else throw new LatencyFileError(`${where}: stage ${name} has neither "percentiles" nor "buckets"`);
  }
  return o as unknown as LatencyFile;
}

export function readLatencyFile(path: string): LatencyFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LatencyFileError(`cannot read latency file ${path}: ${(e as Error).message}`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new LatencyFileError(`latency file ${path}: invalid JSON: ${(e as Error).message}`);
  }
  return validateLatencyFile(j, `latency file ${path}`);
}

/**
 * A stage as [percentile, value in ms] points (ready for inverse-transform sampling): from `percentiles`
 * as they are, or from `buckets` by cumulating counts (each bucket spans from the previous upper bound).
 */
export function stageQuantilesMs(file: LatencyFile, stage: string): Array<[number, number]> {
  const e = file.stages[stage];
  if (e === undefined) throw new LatencyFileError(`latency file has no stage "${stage}" (it has: ${Object.keys(file.stages).join(', ') || 'none'})`);
  const scale = UNIT_NS[file.unit ?? 'ns']! / 1e6;
  if (e.percentiles !== undefined) {
    if (e.percentiles.length === 0) throw new LatencyFileError(`latency file: stage "${stage}" is empty`);
    return e.percentiles.map(([p, v]) => [p, v * scale]);
  }
  const buckets = e.buckets ?? [];
  const total = buckets.reduce((a, [, c]) => a + c, 0);
  if (total <= 0) throw new LatencyFileError(`latency file: stage "${stage}" is empty`);
  const out: Array<[number, number]> = [];
  let cum = 0;
  let prevUpper = 0;
  for (const [upper, c] of buckets) {
    if (c === 0) {
      prevUpper = upper;
      continue;
    }
    if (out.length === 0) out.push([0, prevUpper * scale]);
    cum += c;
    out.push([(100 * cum) / total, upper * scale]);
    prevUpper = upper;
  }
  return out;
}
