/**
 * Replay throughput: the simulated venue (in a worker thread) replays a recording as fast as the client
 * reads it (speed 0), looped up to ~1M frames, to a client on loopback:
 *
 *   decoder — WsClient + BinanceMarketDecoder (into a small staging writer): received and decoded;
 *   feed    — the engine's own FeedHandler (WsClient, decoder, BookSync + L2Book, ring A drained every ms).
 *             Each lap of the loop starts the depth ids over: the feed drops the older-id events as stale,
 *             gaps and resyncs (budget raised to the config's maximum, 60 per minute per symbol); that is in
 *             the figure too, so it is a conservative one for the feed on a live venue.
 *
 * Messages/s = frames decoded / (first frame -> last frame). The recording is the larger shared Binance one
 * when present, else one made on the spot by recording the synthetic venue (hft record's recorder).
 *
 * Run: `node dist/bench/replay.js [messages]` after `tsc`, or call runReplayBench().
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startRecorder } from '../src/cli/record.js';
import { DEFAULT_CONFIG } from '../src/config/Config.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { FeedHandler } from '../src/feed/FeedHandler.js';
import { WsClient } from '../src/net/WsClient.js';
import { MARKET_SLOT_BYTES } from '../src/ring/layout.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { SpscRing } from '../src/ring/SpscRing.js';
import { startBinanceVenue } from '../src/sim/binance/BinanceVenue.js';
import { ReplaySource } from '../src/sim/market/ReplaySource.js';
import { BinanceMarketDecoder } from '../src/venues/binance/MarketDecoder.js';

export interface ReplayBenchPath {
  /** Frames received and decoded per second, first frame -> last frame. */
  messagesPerSec: number;
  messages: number;
  seconds: number;
  /** Client thread busy time per message (event-loop utilisation), ns. */
  busyNsPerMsg: number;
  decodeErrors: number;
}

export interface ReplayBenchResult {
  /** Frames received and decoded per second by WsClient + BinanceMarketDecoder (the `decoder` path). */
  messagesPerSec: number;
  /** The same through the whole FeedHandler (the `feed` path; see its book counters). */
  feedMessagesPerSec: number;
  recording: string;
  framesPerLap: number;
  feed: ReplayBenchPath & { ringRecords: number; ringDrops: number; bookSnapshots: number; bookGaps: number; bookResyncs: number };
  decoder: ReplayBenchPath;
  /** The venue's own count of frames sent, per path. */
  venueFramesSent: { feed: number; decoder: number };
}

export interface ReplayBenchOptions {
  /** Frames per path (laps of the recording). Default 1_000_000. */
  messages?: number;
  /** Recording to replay (default: the shared 2021-04-05 Binance recording, else one recorded on the spot). */
  file?: string;
  log?: (m: string) => void;
}

const SHARED_REL = 'shared/fixtures/recordings/binance-usdm/2021-04-05_SAND-CHR-NEO-CTK-BAT.jsonl';

/** The shared recording beside the project, seen from dist/bench/ (compiled) or bench/ (sources). */
function sharedRecording(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const up of ['../../..', '../..']) {
    const p = resolve(here, up, SHARED_REL);
    if (existsSync(p)) return p;
  }
  return null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `p`, or `fallback` after `ms` (the timer does not outlive the race). */
async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | null = null;
  try {
    return await Promise.race([p, new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** A recording of the synthetic venue (2 symbols, bookTicker/aggTrade/depth@100ms, ~2 s at 20k msgs/s). */
export async function recordSynthetic(dir: string): Promise<string> {
  const v = await startBinanceVenue({ port: 0, rate: 20_000, seed: 7, symbols: ['BTCUSDT', 'ETHUSDT'] });
  const out = join(dir, 'synthetic.jsonl');
  try {
    const rec = startRecorder({
      venue: 'binance',
      url: `${v.wsUrl}/stream?streams=btcusdt@bookTicker/btcusdt@aggTrade/btcusdt@depth@100ms/ethusdt@bookTicker/ethusdt@aggTrade/ethusdt@depth@100ms`,
      out,
      snapshot: { restBase: v.restUrl, limit: 1000 },
    });
    await rec.connected();
    await sleep(2000);
    await rec.stop();
  } finally {
    await v.close();
  }
  return out;
}

interface VenueWorker {
  wsUrl: string;
  restUrl: string;
  done: Promise<{ framesSent: number }>;
  stop(): Promise<void>;
}

function startVenueWorker(file: string, maxFrames: number): Promise<VenueWorker> {
  const w = new Worker(fileURLToPath(new URL('./replayVenueWorker.js', import.meta.url)), { workerData: { file, maxFrames } });
  return new Promise((resolveReady, reject) => {
    let doneResolve: (v: { framesSent: number }) => void = () => {};
    const done = new Promise<{ framesSent: number }>((r) => (doneResolve = r));
    let closedResolve: () => void = () => {};
    const closed = new Promise<void>((r) => (closedResolve = r));
    w.on('error', reject);
    w.on('message', (m: { type: string; wsUrl?: string; restUrl?: string; stats?: { replay?: { framesSent: number } } }) => {
      if (m.type === 'ready') {
        resolveReady({
          wsUrl: m.wsUrl!,
          restUrl: m.restUrl!,
          done,
          stop: async () => {
            w.postMessage('stop');
            await within(closed, 3000, undefined);
            await w.terminate();
          },
        });
      } else if (m.type === 'done') doneResolve({ framesSent: m.stats?.replay?.framesSent ?? 0 });
      else if (m.type === 'closed') closedResolve();
    });
  });
}

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

/** Streams of the recording (stream names as recorded) and its symbols. */
function recordingShape(file: string): { streams: string[]; kinds: string[]; symbols: string[]; frames: number } {
  const src = ReplaySource.load(file);
  const kinds = new Set<string>();
  for (const s of src.streams) {
    const at = s.indexOf('@');
    if (at > 0) kinds.add(s.slice(at + 1));
  }
  return { streams: [...src.streams], kinds: [...kinds], symbols: src.instruments.map((i) => i.symbol), frames: src.frameCount };
}

async function runFeedPath(file: string, n: number, shape: ReturnType<typeof recordingShape>): Promise<{ r: ReplayBenchResult['feed']; sent: number }> {
  const venue = await startVenueWorker(file, n);
  const ring = SpscRing.create('bench-replay', 1 << 16, MARKET_SLOT_BYTES);
  const feed = new FeedHandler(new SymbolRegistry(shape.symbols), ring, {
    ...DEFAULT_CONFIG.feed,
    wsBase: venue.wsUrl,
    restUrl: venue.restUrl,
    symbols: shape.symbols,
    streams: shape.kinds,
    routing: 'legacy',
    subscribe: 'url',
    reconnect: { initialMs: 50, maxMs: 500, jitter: 0.3 },
    // the most resyncs the config allows: each lap of the loop breaks the depth chain once per symbol
    book: { ...DEFAULT_CONFIG.book, maxResyncsPerMinute: 60, resyncBackoffMs: 10 },
  });
  let ringRecords = 0;
  let t0 = 0;
  let elu0: Elu | null = null;
  // Drain ring A every millisecond (64k slots hold far more than a millisecond of frames), as the strategy
  // worker would, without spinning this thread.
  const drain = (): void => {
    for (;;) {
      const k = ring.poll(8192);
      if (k === 0) break;
      ringRecords += k;
      ring.release(k);
    }
    if (t0 === 0 && feed.decoder.frames > 0) {
      t0 = performance.now();
      elu0 = performance.eventLoopUtilization();
    }
  };
  const drainTimer = setInterval(drain, 1);
  feed.start();
  try {
    const { framesSent } = await within(venue.done, 120_000, { framesSent: -1 });
    const deadline = Date.now() + 30_000;
    while (feed.decoder.frames < framesSent && Date.now() < deadline) await sleep(1);
    const t1 = performance.now();
    const busy = elu0 ? performance.eventLoopUtilization(elu0).active * 1e6 : 0;
    const frames = feed.decoder.frames;
    const c = feed.counters();
    const seconds = (t1 - t0) / 1000;
    return {
      r: {
        messagesPerSec: frames / seconds,
        messages: frames,
        seconds,
        busyNsPerMsg: busy / Math.max(1, frames),
        decodeErrors: c.decodeErrors,
        ringRecords,
        ringDrops: c.ringDrops,
        bookSnapshots: c.bookSnapshots,
        bookGaps: c.bookGaps,
        bookResyncs: c.bookResyncs,
      },
      sent: framesSent,
    };
  } finally {
    clearInterval(drainTimer);
    feed.stop();
    await venue.stop();
  }
}

async function runDecoderPath(file: string, n: number, shape: ReturnType<typeof recordingShape>): Promise<{ r: ReplayBenchPath; sent: number }> {
  const venue = await startVenueWorker(file, n);
  const decoder = new BinanceMarketDecoder(new SymbolRegistry(shape.symbols), () => 0);
  const staging = new ArraySlotWriter(MARKET_SLOT_BYTES, 1024);
  let t0 = 0;
  let elu0: Elu | null = null;
  const client = new WsClient(
    `${venue.wsUrl}/stream?streams=${shape.streams.join('/')}`,
    {
      onOpen: () => {},
      onMessage: (buf, start, end, recvTs) => {
        if (t0 === 0) {
          t0 = performance.now();
          elu0 = performance.eventLoopUtilization();
        }
        staging.reset();
        decoder.decode(buf, start, end, recvTs, staging);
      },
      onClose: () => {},
    },
    { reconnect: false },
  );
  client.connect();
  try {
    const { framesSent } = await within(venue.done, 120_000, { framesSent: -1 });
    const deadline = Date.now() + 30_000;
    while (decoder.frames < framesSent && Date.now() < deadline) await sleep(1);
    const t1 = performance.now();
    const busy = elu0 ? performance.eventLoopUtilization(elu0).active * 1e6 : 0;
    const seconds = (t1 - t0) / 1000;
    return {
      r: { messagesPerSec: decoder.frames / seconds, messages: decoder.frames, seconds, busyNsPerMsg: busy / Math.max(1, decoder.frames), decodeErrors: decoder.malformed },
      sent: framesSent,
    };
  } finally {
    client.close();
    await venue.stop();
  }
}

export async function runReplayBench(opts: ReplayBenchOptions = {}): Promise<ReplayBenchResult> {
  const log = opts.log ?? ((m: string): void => void process.stderr.write(`[bench replay] ${m}\n`));
  const want = Math.max(1000, Math.floor(opts.messages ?? 1_000_000));
  let dir: string | null = null;
  let file = opts.file ?? sharedRecording();
  try {
    if (file === null) {
      dir = mkdtempSync(join(tmpdir(), 'hft-bench-replay-'));
      log('shared recording not found: recording the synthetic venue for 2 s');
      file = await recordSynthetic(dir);
    }
    const shape = recordingShape(file);
    if (shape.frames === 0) throw new Error(`bench replay: no frames in ${file}`);
    log(`${file}: ${shape.frames} frames per lap, ${shape.symbols.length} symbols; ${want} frames per path (~${Math.ceil(want / shape.frames)} laps)`);
    const feed = await runFeedPath(file, want, shape);
    log(`feed (FeedHandler): ${(feed.r.messagesPerSec / 1000).toFixed(0)}k msgs/s`);
    const dec = await runDecoderPath(file, want, shape);
    log(`decoder (WsClient + decoder): ${(dec.r.messagesPerSec / 1000).toFixed(0)}k msgs/s`);
    return {
      messagesPerSec: dec.r.messagesPerSec,
      feedMessagesPerSec: feed.r.messagesPerSec,
      recording: file,
      framesPerLap: shape.frames,
      feed: feed.r,
      decoder: dec.r,
      venueFramesSent: { feed: feed.sent, decoder: dec.sent },
    };
  } finally {
    if (dir !== null) rmSync(dir, { recursive: true, force: true });
  }
}

// `node dist/bench/replay.js [messages]`
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const n = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const r = await runReplayBench(n !== undefined ? { messages: n } : {});
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}
