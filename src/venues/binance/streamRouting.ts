/**
 * Where each Binance USDⓈ-M market stream lives (protocols.md §1.1). Since the 2026 URL split the
 * high-frequency book streams are served under `/public` and everything else under `/market`; a client
 * left on the legacy root still connects but silently receives nothing for aggTrade, markPrice, kline
 * and forceOrder. So streams are routed by kind, and the legacy root is kept only for testnet.
 */

export type BinanceWsRouting = 'split' | 'legacy';
export type StreamBase = 'public' | 'market' | 'root';

/** How a connection gets its streams: in the URL (`/stream?streams=`) or by SUBSCRIBE messages after open. */
export type SubscribeMode = 'url' | 'message';

/** Streams per connection (the venue allows 1024; stay under it). */
export const MAX_STREAMS_PER_CONNECTION = 1000;

/** `btcusdt@depth@100ms` -> `depth@100ms`; `!bookTicker` -> `!bookTicker`. */
export function streamKind(stream: string): string {
  const at = stream.indexOf('@');
  return at < 0 ? stream : stream.slice(at + 1);
}

/** The base path a stream belongs to under the split (bookTicker, depth and trade are `/public`). */
export function splitBaseOf(stream: string): 'public' | 'market' {
  const kind = stream.startsWith('!') ? stream.slice(1) : streamKind(stream);
  if (kind.startsWith('bookTicker') || kind.startsWith('depth') || kind === 'trade') return 'public';
  return 'market';
}

export interface StreamConnectionSpec {
  base: StreamBase;
  /** the URL to connect to (with the streams in it when mode is 'url') */
  url: string;
  streams: string[];
  mode: SubscribeMode;
}

/** Stream names for symbols × kinds, venue spelling (lower-case symbol). */
export function streamNames(symbols: readonly string[], kinds: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of symbols) for (const k of kinds) out.push(`${s.toLowerCase()}@${k}`);
  return out;
}

/**
 * The connections needed for a set of streams: one per base path (split) or one on the root (legacy),
 * each chunked under MAX_STREAMS_PER_CONNECTION. Always combined mode (`/stream`), so every frame names
 * its stream.
 */
export function marketConnections(wsBase: string, streams: readonly string[], routing: BinanceWsRouting, mode: SubscribeMode): StreamConnectionSpec[] {
  const root = wsBase.replace(/\/+$/, '');
  const groups = new Map<StreamBase, string[]>();
  for (const s of streams) {
    const base: StreamBase = routing === 'legacy' ? 'root' : splitBaseOf(s);
    let g = groups.get(base);
    if (!g) groups.set(base, (g = []));
    g.push(s);
  }
  const out: StreamConnectionSpec[] = [];
  for (const base of ['public', 'market', 'root'] as const) {
    const g = groups.get(base);
    if (!g) continue;
    for (let i = 0; i < g.length; i += MAX_STREAMS_PER_CONNECTION) {
      const chunk = g.slice(i, i + MAX_STREAMS_PER_CONNECTION);
      const path = base === 'root' ? '/stream' : `/${base}/stream`;
      const url = mode === 'url' ? `${root}${path}?streams=${chunk.join('/')}` : `${root}${path}`;
      out.push({ base, url, streams: chunk, mode });
    }
  }
  return out;
}
