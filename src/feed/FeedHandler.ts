import type { Histogram } from 'hdr-histogram-js';
import { WsClient, type WsHandler } from '../net/WsClient.js';
import { BinanceMarketDecoder } from '../venues/binance/MarketDecoder.js';
import type { SymbolRegistry } from '../core/SymbolRegistry.js';
import type { SpscRing } from '../ring/SpscRing.js';
import { recordNs } from '../metrics/StageHistograms.js';
import { nowNs } from '../util/clock.js';

export interface FeedOptions {
  /** combined-stream URL, e.g. ws://127.0.0.1:P/stream?streams=btcusdt@bookTicker/... */
  url: string;
  reconnect: { initialMs: number; maxMs: number; jitter: number };
  decodeHist?: Histogram;
  onStatus?: (event: 'open' | 'close', detail: string) => void;
}

export interface FeedCounters {
  frames: number;
  records: number;
  decodeErrors: number;
  ignored: number;
  unknownSymbol: number;
  ringDrops: number;
  connects: number;
  reconnects: number;
  disconnects: number;
  bytesIn: number;
}

/**
 * The feed worker's core: one WebSocket connection to the venue's combined stream, each text frame decoded
 * straight from the socket bytes into ring A. A malformed or unknown frame is counted and skipped; a full
 * ring is counted and the decoder flags the symbol (GapBefore) so the strategy treats its view as stale.
 * Disconnects reconnect with exponential backoff and jitter.
 */
export class FeedHandler implements WsHandler {
  readonly decoder: BinanceMarketDecoder;
  readonly ws: WsClient;
  private lastPub = 0;
  private disconnects = 0;

  constructor(
    symbols: SymbolRegistry,
    private readonly ring: SpscRing,
    private readonly opts: FeedOptions,
  ) {
    // The decoder reads the clock once per frame for PUB_TS; keep it to time the decode stage.
    const stamp = (): number => {
      const t = nowNs();
      this.lastPub = t;
      return t;
    };
    this.decoder = new BinanceMarketDecoder(symbols, stamp);
    this.ws = new WsClient(opts.url, this, {
      backoff: { initialMs: opts.reconnect.initialMs, maxMs: opts.reconnect.maxMs, jitter: opts.reconnect.jitter },
    });
  }

  start(): void {
    this.ws.connect();
  }

  stop(): void {
    this.ws.close(1000);
  }

  onOpen(): void {
    this.opts.onStatus?.('open', this.opts.url);
  }

  onMessage(buf: Buffer, start: number, end: number, recvTs: number): void {
    const n = this.decoder.decode(buf, start, end, recvTs, this.ring);
    if (n > 0 && this.opts.decodeHist) recordNs(this.opts.decodeHist, this.lastPub - recvTs);
  }

  onClose(code: number, reason: string, willReconnect: boolean): void {
    this.disconnects++;
    this.opts.onStatus?.('close', `code ${code} ${reason}${willReconnect ? ', reconnecting' : ''}`);
  }

  onError(): void {
    // counted by the client; the close that follows reports it
  }

  counters(): FeedCounters {
    const d = this.decoder;
    return {
      frames: d.frames,
      records: d.records,
      decodeErrors: d.malformed,
      ignored: d.ignored,
      unknownSymbol: d.unknownSymbol,
      ringDrops: d.ringFull,
      connects: this.ws.connects,
      reconnects: this.ws.reconnects,
      disconnects: this.disconnects,
      bytesIn: this.ws.bytesIn,
    };
  }
}

/** Combined-stream URL for the configured symbols and stream kinds. */
export function combinedStreamUrl(wsBase: string, symbols: readonly string[], streams: readonly string[]): string {
  const names: string[] = [];
  for (const s of symbols) for (const k of streams) names.push(`${s.toLowerCase()}@${k}`);
  return `${wsBase.replace(/\/$/, '')}/stream?streams=${names.join('/')}`;
}
