import {
  BookState,
  DEPTH,
  FS,
  RecordFlag,
  RecordType,
  W,
  headerFlags,
  headerType,
} from '../ring/layout.js';
import { DEFAULT_LEVELS_PER_SIDE, DEPTH_RECORD_WORDS, L2Book, applyDepthLevels } from './L2Book.js';

/**
 * Where BookSync sends the book it maintains. The same BookSync drives an L2Book directly (`L2BookSink`:
 * verify-book, backtests) or a ring writer (the feed worker: the snapshot as Reset-flagged depth records,
 * accepted diffs forwarded as they are).
 */
export interface BookSink {
  /**
   * A REST snapshot replaces the symbol's book. `bids` / `asks` hold price, qty pairs (best first as Binance
   * sends them, though any order is accepted by an L2Book). Diff records that follow build on it.
   */
  onSnapshot(symbolId: number, lastUpdateId: number, bids: Float64Array, asks: Float64Array): void;
  /**
   * One record of an accepted diff event, in order; the record's First / Last flags delimit the event. The
   * record may sit in BookSync's own buffer (replay after a snapshot): copy it, do not keep the reference.
   */
  onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void;
  /** The symbol's visible state changed (Syncing / Live / Stale). */
  onState(symbolId: number, state: BookState): void;
}

/** What happened to the depth event a record belongs to (result of `BookSync.onRecord`). */
export const enum DepthAction {
  /** not a Depth record, or a record of an unknown symbol, or a continuation without its First record */
  Ignored = 0,
  /** partial-depth (top N, Snapshot flag) or Reset records: not diffs, kept out of the sync logic */
  NotDiff = 1,
  /** held until the REST snapshot arrives */
  Buffered = 2,
  /** older than the book (u < snapshot lastUpdateId, or u <= the last applied u) */
  DroppedStale = 3,
  /** handed to the sink */
  Applied = 4,
  /** dropped because its event could not be buffered (the event alone is larger than the buffer) */
  DroppedOverflow = 5,
}

/** Internal phase per symbol; Syncing covers the first two. */
const enum Phase {
  AwaitSnapshot = 0,
  AwaitFirst = 1,
  Live = 2,
  Stale = 3,
}

/** `cur` value when no event of the symbol is in progress. */
const NO_EVENT = -1;

export interface BookSyncOptions {
  /** Depth records buffered per symbol while waiting for a snapshot (default 1024 = 128 KB per symbol). */
  bufferRecords?: number;
  /** At most this many snapshot requests per symbol within `resyncWindowMs` (default 5). */
  maxResyncs?: number;
  /** Window of the resync budget, ms (default 60 000). */
  resyncWindowMs?: number;
  /** Backoff before the 2nd request in a window; it doubles with each further request (default 250 ms). */
  backoffBaseMs?: number;
  /** Backoff ceiling (default 30 000 ms). */
  backoffMaxMs?: number;
  /**
   * Called when a symbol needs a REST snapshot: fetch it after `delayMs`, then call `onSnapshot` (or
   * `snapshotFailed`) — later, never from inside this callback (it runs in the middle of `onRecord`). Not
   * called for the initial need of each symbol (poll `snapshotWanted` or call `restart`).
   */
  requestSnapshot?: (symbolId: number, delayMs: number) => void;
}

export interface BookSyncStats {
  state: BookState;
  lastUpdateId: number;
  applied: number;
  gaps: number;
  resyncs: number;
  droppedStale: number;
  bufferOverflow: number;
  buffered: number;
  partialIgnored: number;
  snapshots: number;
  snapshotRequests: number;
  snapshotFailures: number;
}

/**
 * The Binance USDⓈ-M local order book procedure (protocols.md §1.4), per symbol, over decoded ring-A Depth
 * records:
 *
 * 1. Buffer diff events until the REST snapshot arrives (`onSnapshot`).
 * 2. Drop events with u < lastUpdateId.
 * 3. The first applied event must satisfy U <= lastUpdateId <= u.
 * 4. Afterwards every event must have pu == previous u; otherwise it is a gap: the state goes back to
 *    Syncing, the event is buffered and a new snapshot is requested (within a budget, with backoff).
 *
 * Partial-depth records (Snapshot flag) carry U/u/pu too but are top-N snapshots: they never enter the diff
 * logic. BookSync does no I/O and reads no clock: times are the records' RECV_TS (or the caller's `nowNs`),
 * in the engine's nanoseconds, so a replay gives the same decisions. Per record, nothing is allocated.
 */
export class BookSync {
  readonly symbolCount: number;
  // ---- per-symbol counters (float64: exact to 2^53)
  readonly applied: Float64Array;
  readonly gaps: Float64Array;
  readonly resyncs: Float64Array;
  readonly droppedStale: Float64Array;
  /** buffered events evicted (oldest first) or refused because the buffer was full */
  readonly bufferOverflow: Float64Array;
  /** partial-depth (top N) events seen and kept out of the diff logic */
  readonly partialIgnored: Float64Array;
  readonly snapshots: Float64Array;
  readonly snapshotRequests: Float64Array;
  readonly snapshotFailures: Float64Array;

  private readonly phase: Uint8Array;
  /** DepthAction of the event in progress per symbol, or NO_EVENT */
  private readonly cur: Int8Array;
  /** last applied u, -1 = none */
  private readonly lastU: Float64Array;
  /** lastUpdateId of the snapshot being synced to */
  private readonly snapId: Float64Array;
  /** 1 while a snapshot is wanted and not yet delivered */
  private readonly wanted: Uint8Array;
  /** earliest time (ns) the wanted snapshot should be fetched */
  private readonly dueNs: Float64Array;
  /** times (ns) of the last `maxResyncs` requests per symbol, a ring each; -Infinity = unused */
  private readonly requestTimes: Float64Array;
  private readonly requestHead: Int32Array;

  // ---- per-symbol event buffers: linear, records of DEPTH_RECORD_WORDS words
  private bufF64: Float64Array[];
  private bufI32: Int32Array[];
  private readonly bufLen: Int32Array;
  /** record index where the event being buffered started, -1 = none */
  private readonly bufEventStart: Int32Array;
  /** the buffer of a symbol being replayed is swapped with this spare one, so replay can buffer again */
  private spareF64: Float64Array;
  private spareI32: Int32Array;

  private readonly bufferRecords: number;
  private readonly maxResyncs: number;
  private readonly windowNs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly requestSnapshot: ((symbolId: number, delayMs: number) => void) | undefined;

  constructor(
    symbolCount: number,
    private readonly sink: BookSink,
    opts: BookSyncOptions = {},
  ) {
    if (!(symbolCount > 0)) throw new Error('BookSync: at least one symbol is required');
    const n = (this.symbolCount = symbolCount);
    this.bufferRecords = Math.max(8, opts.bufferRecords ?? 1024);
    this.maxResyncs = Math.max(1, opts.maxResyncs ?? 5);
    this.windowNs = (opts.resyncWindowMs ?? 60_000) * 1e6;
    this.backoffBaseMs = opts.backoffBaseMs ?? 250;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.requestSnapshot = opts.requestSnapshot;

    this.applied = new Float64Array(n);
    this.gaps = new Float64Array(n);
    this.resyncs = new Float64Array(n);
    this.droppedStale = new Float64Array(n);
    this.bufferOverflow = new Float64Array(n);
    this.partialIgnored = new Float64Array(n);
    this.snapshots = new Float64Array(n);
    this.snapshotRequests = new Float64Array(n);
    this.snapshotFailures = new Float64Array(n);
    this.phase = new Uint8Array(n); // AwaitSnapshot
    this.cur = new Int8Array(n).fill(NO_EVENT);
    this.lastU = new Float64Array(n).fill(-1);
    this.snapId = new Float64Array(n).fill(-1);
    this.wanted = new Uint8Array(n).fill(1);
    this.dueNs = new Float64Array(n);
    this.requestTimes = new Float64Array(n * this.maxResyncs).fill(-Infinity);
    this.requestHead = new Int32Array(n);

    this.bufF64 = [];
    this.bufI32 = [];
    for (let s = 0; s < n; s++) {
      const ab = new ArrayBuffer(this.bufferRecords * DEPTH_RECORD_WORDS * 8);
      this.bufF64.push(new Float64Array(ab));
      this.bufI32.push(new Int32Array(ab));
    }
    const spare = new ArrayBuffer(this.bufferRecords * DEPTH_RECORD_WORDS * 8);
    this.spareF64 = new Float64Array(spare);
    this.spareI32 = new Int32Array(spare);
    this.bufLen = new Int32Array(n);
    this.bufEventStart = new Int32Array(n).fill(-1);
  }

  // ------------------------------------------------------------------ queries

  /** Visible state: Live, Stale, or Syncing (waiting for a snapshot or for the event that straddles it). */
  state(symbolId: number): BookState {
    const p = this.phase[symbolId]!;
    return p === Phase.Live ? BookState.Live : p === Phase.Stale ? BookState.Stale : BookState.Syncing;
  }

  /** `u` of the last applied event (the snapshot's lastUpdateId right after a snapshot), -1 if none. */
  lastUpdateId(symbolId: number): number {
    return this.lastU[symbolId]!;
  }

  /** Whether the symbol waits for a REST snapshot that has not been delivered yet. */
  snapshotWanted(symbolId: number): boolean {
    return this.wanted[symbolId] === 1;
  }

  /** When (engine ns) the wanted snapshot should be fetched (backoff / budget applied). */
  snapshotDueNs(symbolId: number): number {
    return this.dueNs[symbolId]!;
  }

  /** Depth records currently buffered for the symbol. */
  bufferedRecords(symbolId: number): number {
    return this.bufLen[symbolId]!;
  }

  stats(symbolId: number): BookSyncStats {
    return {
      state: this.state(symbolId),
      lastUpdateId: this.lastU[symbolId]!,
      applied: this.applied[symbolId]!,
      gaps: this.gaps[symbolId]!,
      resyncs: this.resyncs[symbolId]!,
      droppedStale: this.droppedStale[symbolId]!,
      bufferOverflow: this.bufferOverflow[symbolId]!,
      buffered: this.bufLen[symbolId]!,
      partialIgnored: this.partialIgnored[symbolId]!,
      snapshots: this.snapshots[symbolId]!,
      snapshotRequests: this.snapshotRequests[symbolId]!,
      snapshotFailures: this.snapshotFailures[symbolId]!,
    };
  }

  // ------------------------------------------------------------------ input

  /**
   * Feeds one decoded ring-A record. Non-depth records are ignored (so a feed loop may pass everything).
   * Records of one depth event must come in order, First to Last, without another call to `onSnapshot` /
   * `restart` of the same symbol in between (the decoder commits an event's records together).
   */
  onRecord(f64: Float64Array, i32: Int32Array, base: number): DepthAction {
    return this.handle(f64, i32, base, f64[base + W.RECV_TS]!);
  }

  /** `nowNs`: the time resync decisions use (the record's receive time, or the replay's time). */
  private handle(f64: Float64Array, i32: Int32Array, base: number, nowNs: number): DepthAction {
    const h = i32[base * 2]!;
    if (headerType(h) !== RecordType.Depth) return DepthAction.Ignored;
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.symbolCount) return DepthAction.Ignored;
    const flags = headerFlags(h);
    if ((flags & (RecordFlag.Snapshot | RecordFlag.Reset)) !== 0) {
      if ((flags & (RecordFlag.Snapshot | RecordFlag.First)) === (RecordFlag.Snapshot | RecordFlag.First)) this.partialIgnored[sym]!++;
      return DepthAction.NotDiff;
    }
    let action: number;
    if ((flags & RecordFlag.First) !== 0) {
      action = this.beginEvent(
        sym,
        f64[base + DEPTH.FIRST_UPDATE_ID]!,
        f64[base + DEPTH.FINAL_UPDATE_ID]!,
        f64[base + DEPTH.PREV_UPDATE_ID]!,
        nowNs,
      );
      this.cur[sym] = action;
    } else {
      action = this.cur[sym]!;
      if (action === NO_EVENT) return DepthAction.Ignored;
    }
    if (action === DepthAction.Applied) this.sink.onDiffRecord(f64, i32, base);
    else if (action === DepthAction.Buffered) action = this.bufferRecord(sym, f64, i32, base);
    if ((flags & RecordFlag.Last) !== 0) {
      this.cur[sym] = NO_EVENT;
      this.bufEventStart[sym] = -1;
      if (action === DepthAction.Applied) {
        this.applied[sym]!++;
        this.lastU[sym] = f64[base + DEPTH.FINAL_UPDATE_ID]!;
        if (this.phase[sym] !== Phase.Live) this.setPhase(sym, Phase.Live);
      }
    }
    return action as DepthAction;
  }

  /**
   * The REST snapshot for a symbol (`bids` / `asks`: price, qty pairs). Accepted while the symbol is
   * Syncing; the sink gets the book, then the buffered events are replayed through the procedure (their
   * records reach the sink from BookSync's buffer: DEPTH_RECORD_WORDS words each). Returns false (and
   * changes nothing) when the symbol is Live or Stale. `nowNs`: the caller's time (engine ns) for a resync
   * decided during the replay.
   */
  onSnapshot(symbolId: number, lastUpdateId: number, bids: Float64Array, asks: Float64Array, nowNs = 0): boolean {
    const sym = symbolId;
    const p = this.phase[sym];
    if (p !== Phase.AwaitSnapshot && p !== Phase.AwaitFirst) return false;
    this.snapshots[sym]!++;
    this.wanted[sym] = 0;
    this.snapId[sym] = lastUpdateId;
    this.lastU[sym] = lastUpdateId;
    this.cur[sym] = NO_EVENT;
    this.bufEventStart[sym] = -1;
    this.sink.onSnapshot(sym, lastUpdateId, bids, asks);
    this.phase[sym] = Phase.AwaitFirst; // still Syncing: no state change to report

    // Replay the buffer from a swapped-out copy: a gap during replay starts a new buffer.
    const n = this.bufLen[sym]!;
    if (n === 0) return true;
    const f64 = this.bufF64[sym]!;
    const i32 = this.bufI32[sym]!;
    this.bufF64[sym] = this.spareF64;
    this.bufI32[sym] = this.spareI32;
    this.spareF64 = f64;
    this.spareI32 = i32;
    this.bufLen[sym] = 0;
    for (let r = 0; r < n; r++) {
      const base = r * DEPTH_RECORD_WORDS;
      // a buffered record's receive time is old: a resync decided during replay counts from now
      this.handle(f64, i32, base, Math.max(nowNs, f64[base + W.RECV_TS]!));
    }
    return true;
  }

  /** The snapshot fetch failed: it is requested again (counted, with backoff). */
  snapshotFailed(symbolId: number, nowNs: number): void {
    this.snapshotFailures[symbolId]!++;
    if (this.phase[symbolId] === Phase.AwaitSnapshot) this.request(symbolId, nowNs);
  }

  /**
   * Starts the symbol over (e.g. the market-data connection was re-opened): empty buffer, Syncing, and a
   * snapshot request unless one is already outstanding.
   */
  restart(symbolId: number, nowNs: number): void {
    const sym = symbolId;
    this.bufLen[sym] = 0;
    this.bufEventStart[sym] = -1;
    this.cur[sym] = NO_EVENT;
    this.lastU[sym] = -1;
    const outstanding = this.wanted[sym] === 1 && this.phase[sym] === Phase.AwaitSnapshot;
    this.setPhase(sym, Phase.AwaitSnapshot);
    if (!outstanding) this.request(sym, nowNs);
  }

  /**
   * The symbol's book stopped being updated (connection lost). It stays Stale until the next diff event:
   * if that event chains (pu == last u) the book is Live again, otherwise it is a gap and a resync.
   */
  markStale(symbolId: number): void {
    if (this.phase[symbolId] === Phase.Live) this.setPhase(symbolId, Phase.Stale);
  }

  // ------------------------------------------------------------------ the procedure

  private beginEvent(sym: number, firstId: number, finalId: number, prevId: number, nowNs: number): number {
    switch (this.phase[sym]) {
      case Phase.AwaitSnapshot:
        return DepthAction.Buffered;
      case Phase.AwaitFirst: {
        const snap = this.snapId[sym]!;
        if (finalId < snap) {
          this.droppedStale[sym]!++;
          return DepthAction.DroppedStale;
        }
        if (firstId <= snap) return DepthAction.Applied;
        // The snapshot is older than the stream we hold: events between them are missing.
        this.gap(sym, nowNs);
        return DepthAction.Buffered;
      }
      default: {
        // Live or Stale
        const last = this.lastU[sym]!;
        if (prevId === last) return DepthAction.Applied;
        if (finalId <= last) {
          // a repeat of what the book already holds (e.g. re-delivered after a reconnect)
          this.droppedStale[sym]!++;
          return DepthAction.DroppedStale;
        }
        this.gap(sym, nowNs);
        return DepthAction.Buffered;
      }
    }
  }

  private gap(sym: number, nowNs: number): void {
    this.gaps[sym]!++;
    this.resyncs[sym]!++;
    this.bufLen[sym] = 0;
    this.bufEventStart[sym] = -1;
    this.setPhase(sym, Phase.AwaitSnapshot);
    this.request(sym, nowNs);
  }

  /**
   * Asks the caller for a snapshot. Backoff: the k-th request within the window waits
   * base * 2^(k-1) ms (the first waits nothing); once `maxResyncs` requests fall within the window, the next
   * waits until the oldest leaves it.
   */
  private request(sym: number, nowNs: number): void {
    const m = this.maxResyncs;
    const times = this.requestTimes;
    const off = sym * m;
    let inWindow = 0;
    let oldest = Infinity;
    for (let k = 0; k < m; k++) {
      const t = times[off + k]!;
      if (t > nowNs - this.windowNs) {
        inWindow++;
        if (t < oldest) oldest = t;
      }
    }
    let delayMs = inWindow === 0 ? 0 : Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (inWindow - 1));
    if (inWindow >= m) delayMs = Math.max(delayMs, (oldest + this.windowNs - nowNs) / 1e6);
    const due = nowNs + delayMs * 1e6;
    const head = this.requestHead[sym]!;
    times[off + head] = due;
    this.requestHead[sym] = (head + 1) % m;
    this.snapshotRequests[sym]!++;
    this.wanted[sym] = 1;
    this.dueNs[sym] = due;
    this.requestSnapshot?.(sym, delayMs);
  }

  private setPhase(sym: number, p: Phase): void {
    const before = this.state(sym);
    this.phase[sym] = p;
    const after = this.state(sym);
    if (after !== before) this.sink.onState(sym, after);
  }

  /** Copies a record into the symbol's buffer, evicting the oldest buffered events when it is full. */
  private bufferRecord(sym: number, f64: Float64Array, i32: Int32Array, base: number): number {
    let len = this.bufLen[sym]!;
    let bf = this.bufF64[sym]!;
    let bi = this.bufI32[sym]!;
    if (this.bufEventStart[sym] === -1) this.bufEventStart[sym] = len;
    if (len === this.bufferRecords) {
      const evStart = this.bufEventStart[sym]!;
      if (evStart === 0) {
        // this event alone fills the buffer: give it up
        this.bufferOverflow[sym]!++;
        this.bufLen[sym] = 0;
        this.bufEventStart[sym] = -1;
        this.cur[sym] = DepthAction.DroppedOverflow;
        return DepthAction.DroppedOverflow;
      }
      len = this.evictOldest(sym, bf, bi, len);
    }
    const dst = len * DEPTH_RECORD_WORDS;
    bi[dst * 2] = i32[base * 2]!;
    bi[dst * 2 + 1] = i32[base * 2 + 1]!;
    for (let w = 1; w < DEPTH_RECORD_WORDS; w++) bf[dst + w] = f64[base + w]!;
    this.bufLen[sym] = len + 1;
    return DepthAction.Buffered;
  }

  /**
   * Makes room in a full buffer by dropping the oldest events: at least half of it, cut at an event
   * boundary, in one copy. (Dropping one event per new event would copy the whole buffer per event while a
   * symbol waits for its snapshot.) Returns the new length; each dropped event is counted.
   */
  private evictOldest(sym: number, bf: Float64Array, bi: Int32Array, len: number): number {
    const evStart = this.bufEventStart[sym]!;
    // never cut into the event being buffered now
    const limit = evStart > 0 ? evStart : len;
    let cut = Math.max(1, len >>> 1);
    while (cut < limit && (headerFlags(bi[cut * DEPTH_RECORD_WORDS * 2]!) & RecordFlag.First) === 0) cut++;
    if (cut > limit) cut = limit;
    let dropped = 0;
    for (let r = 0; r < cut; r++) if ((headerFlags(bi[r * DEPTH_RECORD_WORDS * 2]!) & RecordFlag.First) !== 0) dropped++;
    bf.copyWithin(0, cut * DEPTH_RECORD_WORDS, len * DEPTH_RECORD_WORDS);
    this.bufferOverflow[sym]! += dropped > 0 ? dropped : 1;
    this.bufEventStart[sym] = evStart >= cut ? evStart - cut : 0;
    return len - cut;
  }
}

/** A sink that keeps one L2Book per symbol (verify-book, backtests, and the feed worker's own copy). */
export class L2BookSink implements BookSink {
  readonly books: L2Book[];
  /** last state reported per symbol */
  readonly states: Uint8Array;

  constructor(symbolCount: number, levelsPerSide: number = DEFAULT_LEVELS_PER_SIDE) {
    this.books = [];
    for (let s = 0; s < symbolCount; s++) this.books.push(new L2Book(levelsPerSide));
    this.states = new Uint8Array(symbolCount).fill(BookState.Syncing);
  }

  onSnapshot(symbolId: number, lastUpdateId: number, bids: Float64Array, asks: Float64Array): void {
    const book = this.books[symbolId]!;
    book.clear();
    for (let i = 0; i + 1 < bids.length; i += 2) book.applyBid(bids[i]!, bids[i + 1]!);
    for (let i = 0; i + 1 < asks.length; i += 2) book.applyAsk(asks[i]!, asks[i + 1]!);
    book.lastUpdateId = lastUpdateId;
  }

  onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
    applyDepthLevels(this.books[i32[base * 2 + 1]!]!, f64, i32, base);
  }

  onState(symbolId: number, state: BookState): void {
    this.states[symbolId] = state;
  }
}

/**
 * The consumer side (strategy worker, backtest): rebuilds one L2Book per symbol from ring-A records.
 *
 * - Depth records are applied in order; a Reset event clears the symbol's book on its First record.
 * - Partial-depth (Snapshot) events are not diffs and are left alone.
 * - GapBefore on any record of a symbol means records were dropped (ring full): its book is Stale until the
 *   next Reset event (the feed re-emits its whole book after a drop).
 * - FeedStatus records carry the feed's BookState for the symbol.
 */
export class BookMirror {
  readonly books: L2Book[];
  private readonly feedState: Uint8Array;
  private readonly dropped: Uint8Array;

  constructor(symbolCount: number, levelsPerSide: number = DEFAULT_LEVELS_PER_SIDE) {
    this.books = [];
    for (let s = 0; s < symbolCount; s++) this.books.push(new L2Book(levelsPerSide));
    this.feedState = new Uint8Array(symbolCount).fill(BookState.Syncing);
    this.dropped = new Uint8Array(symbolCount);
  }

  /** Syncing / Live as the feed last said, or Stale if records of the symbol were dropped since its last Reset. */
  state(symbolId: number): BookState {
    return this.dropped[symbolId] === 1 ? BookState.Stale : (this.feedState[symbolId]! as BookState);
  }

  /**
   * Applies one ring-A record. Returns the symbol id when the record completed a depth event (the book is
   * consistent again and may be read), else -1.
   */
  onRecord(f64: Float64Array, i32: Int32Array, base: number): number {
    const h = i32[base * 2]!;
    const sym = i32[base * 2 + 1]!;
    if (sym < 0 || sym >= this.books.length) return -1;
    const flags = headerFlags(h);
    if ((flags & RecordFlag.GapBefore) !== 0) this.dropped[sym] = 1;
    const type = headerType(h);
    if (type === RecordType.FeedStatus) {
      const st = f64[base + FS.BOOK_STATE]!;
      if (st === BookState.Syncing || st === BookState.Live || st === BookState.Stale) this.feedState[sym] = st;
      return -1;
    }
    if (type !== RecordType.Depth || (flags & RecordFlag.Snapshot) !== 0) return -1;
    const book = this.books[sym]!;
    if ((flags & (RecordFlag.Reset | RecordFlag.First)) === (RecordFlag.Reset | RecordFlag.First)) {
      book.clear();
      this.dropped[sym] = 0;
    }
    applyDepthLevels(book, f64, i32, base);
    return (flags & RecordFlag.Last) !== 0 ? sym : -1;
  }
}
