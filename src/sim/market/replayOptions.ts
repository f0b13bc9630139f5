/** The replay options and load counts both simulator dialects share (Binance `ReplaySourceOptions`, Gate `GateReplayOptions`). */

/** `source` of a venue's options for a replay. */
export interface ReplayOptions {
  kind: 'replay';
  /** Recording file (.jsonl, shared recordings format, the venue's payloads). */
  file: string;
  /** 0 = as fast as the subscribers take it; 1 = real time by the recording's `ts`; N = N times faster. Default 1. */
  speed?: number;
  /** Start over at the end (the books are rebuilt from scratch each lap). Default false. */
  loop?: boolean;
  /** Stop (done) after this many ws frames were replayed, laps included. Default: no limit. */
  maxFrames?: number;
  /**
   * Start on the first market-data subscription, after this delay (ms), so a client that subscribes with
   * several messages gets its streams in place before the first frame. Default 100.
   */
  startDelayMs?: number;
  /** Start only when `replay.start()` is called. Default false. */
  manualStart?: boolean;
}

export interface ReplayLoadStats {
  /** ws frames kept for replay. */
  frames: number;
  snapshots: number;
  /** ws lines left out: control replies and acks, non-JSON payloads, frames naming no stream. */
  skippedFrames: number;
  /** `ws_out` lines (frames the recorder sent; not replayed). */
  outgoing: number;
  malformedLines: number;
}
