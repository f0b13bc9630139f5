import { existsSync } from 'node:fs';
import { BookSync, L2BookSink } from '../book/BookSync.js';
import { SymbolRegistry } from '../core/SymbolRegistry.js';
import { BT, BookState, DEPTH, MARKET_SLOT_BYTES, RecordFlag, RecordType, headerFlags, headerType } from '../ring/layout.js';
import { ArraySlotWriter } from '../ring/SlotWriter.js';
import { BinanceMarketDecoder } from '../venues/binance/MarketDecoder.js';
import {
  RecordingReader,
  RecordingSource,
  parseDepthSnapshot,
  restSymbol,
  wsUrlSymbols,
} from '../venues/binance/recording.js';
import { GateBookSync, parseGateOrderBook, restContract } from '../venues/gate/book.js';
import { GateMarketDecoder, type MarketFrameDecoder } from '../venues/gate/MarketDecoder.js';
import { detectRecordingVenue, gateRecordingContracts, type RecordingVenue } from '../venues/gate/recording.js';
import { UsageError, only, parseArgs, str } from './args.js';

export interface VerifyBookSymbol {
  applied: number;
  gaps: number;
  resyncs: number;
  checks: number;
  mismatches: number;
}

export interface VerifyBookResult {
  symbols: Record<string, VerifyBookSymbol>;
}

/** Extra facts of a replay (stderr only; the JSON keeps the documented shape). */
export interface VerifyBookDetails {
  malformedLines: number;
  decodeErrors: number;
  ringFull: number;
  droppedStale: Record<string, number>;
  states: Record<string, string>;
}

/** bookTickers waiting for the depth event with their `u`, per symbol (they arrive before it: see below). */
const PENDING_TICKERS = 8;

/**
 * `hft verify-book FILE [--venue binance|gate]`: replays a recording through the feed's own decoder (the
 * venue's market decoder into an ArraySlotWriter), book sync and L2Book, and checks the rebuilt top of book
 * against bookTicker / book_ticker. The venue is detected from the recording unless `--venue` names it.
 */
export function verifyBookCommand(argv: string[]): number {
  const args = parseArgs(argv);
  only(args, ['venue'], 'verify-book');
  if (args.positional.length !== 1) throw new UsageError('hft verify-book: exactly one FILE (a recording .jsonl) is required');
  const file = args.positional[0]!;
  if (!existsSync(file)) throw new UsageError(`hft verify-book: no such file: ${file}`);
  const venueArg = str(args, 'venue');
  if (venueArg !== undefined && venueArg !== 'binance' && venueArg !== 'gate') {
    throw new UsageError(`hft verify-book: --venue must be binance or gate; got ${JSON.stringify(venueArg)}`);
  }
  const venue: RecordingVenue = venueArg ?? detectRecordingVenue(file);
  const { result, details } = verifyBookFile(file, venue);
  if (details.malformedLines > 0 || details.decodeErrors > 0 || details.ringFull > 0) {
    process.stderr.write(
      `hft verify-book: ${details.malformedLines} malformed lines, ${details.decodeErrors} undecodable frames, ${details.ringFull} ring-full drops\n`,
    );
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  // Gate pushes book_ticker only when the top changes, so a quiet contract may offer no check point at all.
  return verifyBookPassed(result, venue !== 'gate') ? 0 : 1;
}

/**
 * Every symbol synced without a gap and matched bookTicker at every check; each symbol was checked at least
 * once (`checkEverySymbol`, Binance) or at least one check happened in all (Gate).
 */
export function verifyBookPassed(r: VerifyBookResult, checkEverySymbol = true): boolean {
  const syms = Object.values(r.symbols);
  if (syms.length === 0 || !syms.every((s) => s.gaps === 0 && s.mismatches === 0)) return false;
  return checkEverySymbol ? syms.every((s) => s.checks > 0) : syms.some((s) => s.checks > 0);
}

/** Symbols a recording names: market-data urls (`streams=`), REST `symbol=`, and the `"s":"..."` of frames. */
export function recordingSymbols(file: string): string[] {
  const found = new Set<string>();
  const reader = RecordingReader.open(file);
  const quoteS = Buffer.from('"s":"');
  for (const line of reader) {
    if (line.src === RecordingSource.Connect || line.src === RecordingSource.Ws) {
      for (const s of wsUrlSymbols(line.url)) found.add(s);
    }
    if (line.src === RecordingSource.Rest) {
      const s = restSymbol(line.url);
      if (s !== '') found.add(s);
    }
    if (line.src === RecordingSource.Ws && line.msgEnd > line.msgStart) {
      const msg = Buffer.from(line.buf.buffer, line.buf.byteOffset + line.msgStart, line.msgEnd - line.msgStart);
      const at = msg.indexOf(quoteS);
      if (at >= 0) {
        const end = msg.indexOf(0x22, at + quoteS.length);
        if (end > at) found.add(msg.toString('latin1', at + quoteS.length, end));
      }
    }
  }
  return [...found].filter((s) => /^[A-Z0-9_]{1,40}$/.test(s)).sort();
}

/**
 * The replay. Per recording line: a ws frame is decoded and its depth records go to BookSync (which buffers
 * until the REST snapshot, applies the §1.4 procedure and drives one L2Book per symbol); a REST depth line is
 * the snapshot, delivered when it was fetched. Gate recordings go through GateMarketDecoder and GateBookSync
 * (§2.5, the same procedure with pu = U - 1 and the snapshot `id` + 1), REST lines `/order_book?contract=`.
 *
 * Checks: a bookTicker whose `u` equals the `u` of a depth event describes the book right after that event.
 * bookTicker is real-time while @depth@100ms is batched, so that bookTicker arrives BEFORE its depth event:
 * it waits (a few per symbol) and is compared when the depth event with the same `u` is applied; one that
 * arrives after its event is compared at once.
 */
export function verifyBookFile(file: string, venue: RecordingVenue = detectRecordingVenue(file)): { result: VerifyBookResult; details: VerifyBookDetails } {
  const gate = venue === 'gate';
  const names = gate ? gateRecordingContracts(file) : recordingSymbols(file);
  const result: VerifyBookResult = { symbols: {} };
  const details: VerifyBookDetails = { malformedLines: 0, decodeErrors: 0, ringFull: 0, droppedStale: {}, states: {} };
  if (names.length === 0) return { result, details };
  const n = names.length;
  const registry = new SymbolRegistry(names);
  let nowNs = 0;
  const decoder: MarketFrameDecoder = gate ? new GateMarketDecoder(registry, () => nowNs) : new BinanceMarketDecoder(registry, () => nowNs);
  const out = new ArraySlotWriter(MARKET_SLOT_BYTES, 8192);

  const checks = new Float64Array(n);
  const mismatches = new Float64Array(n);
  const seen = new Uint8Array(n);
  // pending bookTickers: a small ring per symbol of u, bid, bidQty, ask, askQty
  const pend = new Float64Array(n * PENDING_TICKERS * 5).fill(-1);
  const pendHead = new Int32Array(n);

  const compare = (sym: number, off: number): void => {
    const book = sink.books[sym]!;
    checks[sym]!++;
    if (
      book.bestBid !== pend[off + 1] ||
      book.bestBidQty !== pend[off + 2] ||
      book.bestAsk !== pend[off + 3] ||
      book.bestAskQty !== pend[off + 4]
    ) {
      mismatches[sym]!++;
    }
    pend[off] = -1;
  };

  /** Checks the book against the waiting bookTickers after an applied event with final id `u`. */
  class CheckingSink extends L2BookSink {
    override onDiffRecord(f64: Float64Array, i32: Int32Array, base: number): void {
      super.onDiffRecord(f64, i32, base);
      if ((headerFlags(i32[base * 2]!) & RecordFlag.Last) === 0) return;
      const sym = i32[base * 2 + 1]!;
      const u = f64[base + DEPTH.FINAL_UPDATE_ID]!;
      for (let k = 0; k < PENDING_TICKERS; k++) {
        const off = (sym * PENDING_TICKERS + k) * 5;
        const pu = pend[off]!;
        if (pu === u) compare(sym, off);
        else if (pu >= 0 && pu < u) pend[off] = -1; // the book has moved past it
      }
    }
  }
  const sink = new CheckingSink(n);
  const sync = gate ? new GateBookSync(n, sink) : new BookSync(n, sink);

  const onTicker = (f64: Float64Array, base: number, sym: number): void => {
    const u = f64[base + BT.UPDATE_ID]!;
    if (u < 0) return;
    const off = (sym * PENDING_TICKERS + pendHead[sym]!) * 5;
    pendHead[sym] = (pendHead[sym]! + 1) % PENDING_TICKERS;
    pend[off] = u;
    pend[off + 1] = f64[base + BT.BID]!;
    pend[off + 2] = f64[base + BT.BID_QTY]!;
    pend[off + 3] = f64[base + BT.ASK]!;
    pend[off + 4] = f64[base + BT.ASK_QTY]!;
    if (sync.state(sym) === BookState.Live && u === sync.lastUpdateId(sym)) compare(sym, off);
  };

  const reader = RecordingReader.open(file);
  let t0 = NaN;
  for (const line of reader) {
    if (t0 !== t0 && line.ts === line.ts) t0 = line.ts;
    if (line.ts === line.ts) nowNs = (line.ts - t0) * 1e9;
    if (line.msgEnd <= line.msgStart || line.msgIsString) continue;
    if (line.src === RecordingSource.Ws) {
      out.reset();
      const r = decoder.decode(line.buf, line.msgStart, line.msgEnd, nowNs, out);
      if (r < 0) continue;
      const { f64, i32 } = out;
      for (let i = 0; i < out.count; i++) {
        const base = out.base(i);
        const h = i32[base * 2]!;
        const sym = i32[base * 2 + 1]!;
        const type = headerType(h);
        if (type === RecordType.Depth) {
          if ((headerFlags(h) & RecordFlag.Snapshot) === 0) seen[sym] = 1;
          sync.onRecord(f64, i32, base);
        } else if (type === RecordType.BookTicker) {
          onTicker(f64, base, sym);
        }
      }
    } else if (gate && line.src === RecordingSource.Rest && line.url.includes('/order_book')) {
      const sym = registry.id(restContract(line.url));
      if (sym < 0) continue;
      seen[sym] = 1;
      const snap = parseGateOrderBook(line.buf.subarray(line.msgStart, line.msgEnd));
      if (snap.id < 0) continue; // without with_id=true a snapshot cannot be joined to the stream
      sync.onSnapshot(sym, snap.id, snap.bids, snap.asks, nowNs);
    } else if (!gate && line.src === RecordingSource.Rest && line.url.includes('/depth')) {
      const sym = registry.id(restSymbol(line.url));
      if (sym < 0) continue;
      seen[sym] = 1;
      const snap = parseDepthSnapshot(line.buf.subarray(line.msgStart, line.msgEnd));
      sync.onSnapshot(sym, snap.lastUpdateId, snap.bids, snap.asks, nowNs);
    }
  }
  details.malformedLines = reader.malformedLines;
  details.decodeErrors = decoder.malformed;
  details.ringFull = decoder.ringFull;

  for (let s = 0; s < n; s++) {
    if (seen[s] === 0) continue;
    const name = names[s]!;
    result.symbols[name] = {
      applied: sync.applied[s]!,
      gaps: sync.gaps[s]!,
      resyncs: sync.resyncs[s]!,
      checks: checks[s]!,
      mismatches: mismatches[s]!,
    };
    details.droppedStale[name] = sync.droppedStale[s]!;
    const st = sync.state(s);
    details.states[name] = st === BookState.Live ? 'live' : st === BookState.Stale ? 'stale' : 'syncing';
  }
  return { result, details };
}
