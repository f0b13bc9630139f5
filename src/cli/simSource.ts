import { existsSync } from 'node:fs';
import type { BinanceVenueHandle, BinanceVenueOptions } from '../sim/binance/BinanceVenue.js';
import { UsageError, flag, num, str, type ParsedArgs } from './args.js';

/**
 * The `hft sim` options that choose the market source: `--source FILE` replays a recording (shared
 * recordings format) instead of the synthetic market, `--speed X` (0 = as fast as the subscribers read,
 * 1 = real time, N = N times faster; default 1), `--loop` starts over at the end.
 */

/** Option names to add to `only(...)` of the sim command. */
export const SIM_SOURCE_OPTIONS = ['source', 'speed', 'loop'] as const;
/** Of those, the flags (no value) to pass to parseArgs. */
export const SIM_SOURCE_FLAGS = ['loop'] as const;

export const SIM_SOURCE_HELP = `             --source FILE      replay a recording (fixtures/recordings format) instead of the synthetic
                                market: its symbols, its frames byte-exact, its REST depth snapshots
             --speed X          replay speed: 0 = as fast as the subscribers read, 1 = real time (default),
                                N = N times faster
             --loop             start the recording over at its end
`;

/**
 * `{ source }` for startBinanceVenue from the parsed sim arguments; `{}` without --source. Throws a
 * UsageError for --speed/--loop without --source, a missing file, or a venue other than binance (the
 * replay reads Binance payloads).
 */
export function simSourceOptions(args: ParsedArgs, venue = 'binance'): Pick<BinanceVenueOptions, 'source'> {
  const file = str(args, 'source');
  const speed = num(args, 'speed', { min: 0, max: 1e6 });
  const loop = flag(args, 'loop');
  if (file === undefined) {
    if (speed !== undefined || loop) throw new UsageError('hft sim: --speed and --loop go with --source FILE');
    return {};
  }
  if (venue !== 'binance') throw new UsageError(`hft sim: --source replays Binance recordings (--venue binance); got --venue ${venue}`);
  if (!existsSync(file)) throw new UsageError(`hft sim: --source: no such file: ${file}`);
  return { source: { kind: 'replay', file, speed: speed ?? 1, loop } };
}

/** Extra fields for the sim's JSON line when replaying: the file, speed and the recording's symbols. */
export function simSourceSummary(v: BinanceVenueHandle): Record<string, unknown> {
  const r = v.replay;
  if (r === null) return {};
  const st = r.stats();
  return { source: { kind: 'replay', file: st.file, speed: st.speed, loop: st.loop, frames: st.framesTotal } };
}
