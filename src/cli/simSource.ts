import { existsSync } from 'node:fs';
import type { BinanceVenueHandle, BinanceVenueOptions } from '../sim/binance/BinanceVenue.js';
import type { GateVenueHandle, GateVenueOptions } from '../sim/gate/GateVenue.js';
import type { MirrorSourceOptions } from '../sim/market/MirrorSource.js';
import { detectRecordingVenue } from '../venues/gate/recording.js';
import { UsageError, flag, num, str, type ParsedArgs } from './args.js';

/**
 * The `hft sim` options that choose the market source: `--source FILE` replays a recording (shared
 * recordings format) instead of the synthetic market, `--speed X` (0 = as fast as the subscribers read,
 * 1 = real time, N = N times faster; default 1), `--loop` starts over at the end. `--mirror REST WS`
 * mirrors a real venue's market data instead (shadow mode), `--mirror-streams` and `--mirror-routing`
 * choosing what it subscribes to and where.
 */

/** Option names to add to `only(...)` of the sim command. */
export const SIM_SOURCE_OPTIONS = ['source', 'speed', 'loop'] as const;
/** The mirror's option names, also for `only(...)` of the sim command. */
export const SIM_MIRROR_OPTIONS = ['mirror', 'mirror-streams', 'mirror-routing'] as const;
/** Of those, the flags (no value) to pass to parseArgs. */
export const SIM_SOURCE_FLAGS = ['loop'] as const;

export const SIM_SOURCE_HELP = `             --source FILE      replay a recording (fixtures/recordings format) instead of the synthetic
                                market: its symbols, its frames byte-exact, its REST depth snapshots; with
                                --venue gate a Gate recording (its contracts, pushes and order_book snapshots)
             --speed X          replay speed: 0 = as fast as the subscribers read, 1 = real time (default),
                                N = N times faster
             --loop             start the recording over at its end
             --mirror REST WS   mirror a real Binance USD-M venue's market data (shadow mode): REST base
                                (exchangeInfo, depth snapshots) and market-data WebSocket base; --symbols
                                are the venue's symbols; orders fill here against its live book, none is sent
             --mirror-streams K stream kinds to mirror per symbol (default bookTicker,aggTrade,depth@100ms)
             --mirror-routing R split (/public + /market, default) or legacy (the root, testnet)
`;

/**
 * `{ source }` for startBinanceVenue (venue binance) or startGateVenue (venue gate) from the parsed sim
 * arguments; `{}` without --source. Throws a UsageError for --speed/--loop without --source, a missing file,
 * --mirror with gate, or a recording of the other venue given to gate.
 */
export function simSourceOptions(args: ParsedArgs, venue?: 'binance'): Pick<BinanceVenueOptions, 'source'>;
export function simSourceOptions(args: ParsedArgs, venue: 'gate'): Pick<GateVenueOptions, 'source'>;
export function simSourceOptions(args: ParsedArgs, venue: string): Pick<BinanceVenueOptions, 'source'> | Pick<GateVenueOptions, 'source'>;
export function simSourceOptions(args: ParsedArgs, venue = 'binance'): Pick<BinanceVenueOptions, 'source'> | Pick<GateVenueOptions, 'source'> {
  const mirror = simMirrorOptions(args, venue);
  if (mirror !== null) {
    if (str(args, 'source') !== undefined) throw new UsageError('hft sim: --mirror and --source are two market sources; give one');
    return { source: mirror };
  }
  const file = str(args, 'source');
  const speed = num(args, 'speed', { min: 0, max: 1e6 });
  const loop = flag(args, 'loop');
  if (file === undefined) {
    if (speed !== undefined || loop) throw new UsageError('hft sim: --speed and --loop go with --source FILE');
    return {};
  }
  if (!existsSync(file)) throw new UsageError(`hft sim: --source: no such file: ${file}`);
  if (venue === 'gate') {
    // the Gate replay reads Gate envelopes: a Binance file would replay nothing
    if (detectRecordingVenue(file) !== 'gate') throw new UsageError(`hft sim: --source ${file} is not a Gate recording (Binance recordings replay with --venue binance)`);
    return { source: { kind: 'replay', file, speed: speed ?? 1, loop } };
  }
  if (venue !== 'binance') throw new UsageError(`hft sim: --source replays Binance recordings (--venue binance) or Gate ones (--venue gate); got --venue ${venue}`);
  return { source: { kind: 'replay', file, speed: speed ?? 1, loop } };
}

/**
 * `--mirror REST WS` (the WS base is the one positional argument of `hft sim`), or null without --mirror.
 * Throws a UsageError for --mirror-* without --mirror, URLs of the wrong scheme, or a venue other than binance.
 */
function simMirrorOptions(args: ParsedArgs, venue: string): MirrorSourceOptions | null {
  const restUrl = str(args, 'mirror');
  const streamsArg = str(args, 'mirror-streams');
  const routing = str(args, 'mirror-routing');
  if (restUrl === undefined) {
    if (streamsArg !== undefined || routing !== undefined) throw new UsageError('hft sim: --mirror-streams and --mirror-routing go with --mirror REST WS');
    return null;
  }
  if (venue !== 'binance') throw new UsageError(`hft sim: --mirror speaks to Binance USD-M venues (--venue binance); got --venue ${venue}`);
  if (args.positional.length !== 1) throw new UsageError('hft sim: --mirror takes two values: the venue\'s REST base and its market-data WebSocket base (--mirror https://fapi.binance.com wss://fstream.binance.com)');
  const wsUrl = args.positional[0]!;
  if (!/^https?:\/\/\S+$/.test(restUrl)) throw new UsageError(`hft sim: --mirror: the REST base must be an http(s) URL; got ${JSON.stringify(restUrl)}`);
  if (!/^wss?:\/\/\S+$/.test(wsUrl)) throw new UsageError(`hft sim: --mirror: the WebSocket base must be a ws(s) URL; got ${JSON.stringify(wsUrl)}`);
  if (routing !== undefined && routing !== 'split' && routing !== 'legacy') throw new UsageError(`hft sim: --mirror-routing must be split or legacy; got ${JSON.stringify(routing)}`);
  const streams = streamsArg?.split(',').map((k) => k.trim()).filter(Boolean);
  const bad = streams?.find((k) => !/^[A-Za-z][A-Za-z0-9_]*(@[A-Za-z0-9_]+)*$/.test(k));
  if (streams !== undefined && (streams.length === 0 || bad !== undefined)) throw new UsageError(`hft sim: --mirror-streams must be stream kinds such as bookTicker,aggTrade,depth@100ms; got ${JSON.stringify(streamsArg)}`);
  return { kind: 'mirror', restUrl, wsUrl, ...(streams ? { streams } : {}), ...(routing ? { routing } : {}) };
}

/** Extra fields for the sim's JSON line when replaying (the file, speed and the recording's symbols) or mirroring. */
export function simSourceSummary(v: BinanceVenueHandle | GateVenueHandle): Record<string, unknown> {
  if (v.venue === 'gate-futures') {
    const st = v.replay?.stats();
    return st ? { source: { kind: 'replay', file: st.file, speed: st.speed, loop: st.loop, frames: st.framesTotal } } : {};
  }
  if (v.mirror !== null) {
    const m = v.mirror.stats();
    return { source: { kind: 'mirror', rest: m.restUrl, ws: m.wsUrl, streams: m.streams } };
  }
  const r = v.replay;
  if (r === null) return {};
  const st = r.stats();
  return { source: { kind: 'replay', file: st.file, speed: st.speed, loop: st.loop, frames: st.framesTotal } };
}
