/**
 * The naive baseline pipeline (bench/baseline) end to end: three workers, WebSocket feed, fetch orders.
 * Workers run from dist/: `npx tsc -p .` must have run first (npm test does).
 *
 * Always runs against a small stand-in venue defined here (uWebSockets.js: a combined-stream WS that
 * pushes bookTicker/aggTrade frames every millisecond, and POST /fapi/v1/order that checks the API key
 * and the HMAC signature and answers a FILLED order). Also runs against the project's simulator
 * (src/sim/binance/BinanceVenue.ts) when that file exists.
 */
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import uWS from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { runBaseline, type BaselineResult } from '../bench/baseline/runBaseline.js';
import { PROJECT_ROOT } from './helpers/fixtures.js';

const API_KEY = 'baseline-test-key';
const API_SECRET = 'baseline-test-secret';

interface StandIn {
  wsUrl: string;
  restUrl: string;
  apiKey: string;
  apiSecret: string;
  /** `streams` query of every WS connection. */
  streamQueries: string[];
  orders: number;
  badSignatures: number;
  close(): void;
}

async function startStandIn(): Promise<StandIn> {
  const sockets = new Set<uWS.WebSocket<{ streams: string }>>();
  const state = { streamQueries: [] as string[], orders: 0, badSignatures: 0 };
  let u = 1000;
  let aggId = 1;
  let orderId = 1;

  const app = uWS.App()
    .ws<{ streams: string }>('/stream', {
      upgrade: (res, req, context) => {
        res.upgrade(
          { streams: req.getQuery('streams') ?? '' },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context,
        );
      },
      open: (ws) => {
        state.streamQueries.push(ws.getUserData().streams);
        sockets.add(ws);
      },
      close: (ws) => {
        sockets.delete(ws);
      },
    })
    .post('/fapi/v1/order', (res, req) => {
      const key = req.getHeader('x-mbx-apikey');
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      const chunks: Buffer[] = [];
      res.onData((chunk, isLast) => {
        chunks.push(Buffer.from(chunk.slice(0)));
        if (!isLast || aborted) return;
        const body = Buffer.concat(chunks).toString('utf8');
        const at = body.lastIndexOf('&signature=');
        const signed = at >= 0 ? body.slice(0, at) : body;
        const signature = at >= 0 ? body.slice(at + '&signature='.length) : '';
        const expected = createHmac('sha256', API_SECRET).update(signed).digest('hex');
        const params = new URLSearchParams(signed);
        res.cork(() => {
          if (key !== API_KEY || signature !== expected) {
            state.badSignatures++;
            res.writeStatus('400 Bad Request').writeHeader('content-type', 'application/json').end('{"code":-1022,"msg":"Signature for this request is not valid."}');
            return;
          }
          state.orders++;
          const order = {
            orderId: orderId++,
            symbol: params.get('symbol'),
            status: 'FILLED',
            clientOrderId: `standin-${orderId}`,
            price: '0.00',
            avgPrice: '60000.00',
            origQty: params.get('quantity'),
            executedQty: params.get('quantity'),
            cumQuote: '60.00',
            timeInForce: 'GTC',
            type: params.get('type'),
            side: params.get('side'),
            positionSide: 'BOTH',
            updateTime: Date.now(),
          };
          res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(JSON.stringify(order));
        });
      });
    });

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('stand-in venue: listen failed'))));
  });
  const port = uWS.us_socket_local_port(listenSocket);

  let n = 0;
  const timer = setInterval(() => {
    n++;
    const bid = (60000 + (n % 50) * 0.1).toFixed(2);
    const ask = (60000.1 + (n % 50) * 0.1).toFixed(2);
    const E = Date.now();
    const book = `{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":${u++},"s":"BTCUSDT","b":"${bid}","B":"1.234","a":"${ask}","A":"0.567","T":${E},"E":${E}}}`;
    const trade = n % 5 === 0 ? `{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":${E},"a":${aggId++},"s":"BTCUSDT","p":"${ask}","q":"0.010","f":1,"l":1,"T":${E},"m":false}}` : '';
    for (const ws of sockets) {
      ws.send(book, false);
      if (trade) ws.send(trade, false);
    }
  }, 1);

  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    restUrl: `http://127.0.0.1:${port}`,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    get streamQueries() {
      return state.streamQueries;
    },
    get orders() {
      return state.orders;
    },
    get badSignatures() {
      return state.badSignatures;
    },
    close() {
      clearInterval(timer);
      for (const ws of sockets) ws.end(1000);
      uWS.us_listen_socket_close(listenSocket);
    },
  };
}

function checkResult(r: BaselineResult, orderEvery: number): void {
  expect(r.ticks).toBeGreaterThan(0);
  expect(r.ticksPerSec).toBeGreaterThan(0);
  expect(Math.abs(r.orders - r.ticks / orderEvery)).toBeLessThanOrEqual(2);
  expect(r.orders).toBeGreaterThan(0);
  expect(r.acks).toBe(r.orders);
  expect(r.rejects).toBe(0);
  for (const s of [r.stages.tickToOrder, r.stages.venueRtt]) {
    expect(s.count).toBeGreaterThan(0);
    expect(s.p50).toBeGreaterThan(0);
    expect(s.p99).toBeGreaterThanOrEqual(s.p50);
  }
  // Every measured order was timed.
  expect(r.stages.tickToOrder.count).toBe(r.acks);
  expect(r.stages.venueRtt.count).toBe(r.acks);
  // All stats were collected after a full drain.
  expect(r.detail.exec.inFlightAtEnd).toBe(0);
  expect(r.detail.exec.ordersMeasured).toBe(r.orders);
}

const ORDER_EVERY = 10;

describe('baseline pipeline (workers + postMessage + JSON.parse + fetch)', () => {
  it('runs against the stand-in venue: ticks, signed orders, acks and stage histograms', async () => {
    const venue = await startStandIn();
    try {
      const t0 = Date.now();
      const r = await runBaseline({
        wsUrl: venue.wsUrl,
        restUrl: venue.restUrl,
        apiKey: venue.apiKey,
        apiSecret: venue.apiSecret,
        streams: ['btcusdt@bookTicker', 'btcusdt@aggTrade'],
        durationMs: 2000,
        warmupMs: 300,
        orderEvery: ORDER_EVERY,
        symbol: 'BTCUSDT',
        quantity: '0.001',
      });
      const elapsed = Date.now() - t0;
      checkResult(r, ORDER_EVERY);
      expect(venue.streamQueries).toEqual(['btcusdt@bookTicker/btcusdt@aggTrade']);
      expect(venue.badSignatures).toBe(0);
      // Warm-up orders reach the venue too; measured ones are a subset.
      expect(venue.orders).toBeGreaterThanOrEqual(r.orders);
      // Node 20's bundled fetch publishes undici:request:create / bodySent: no send time fell back.
      expect(r.detail.exec.sendTsFromChannel).toBe(r.acks);
      expect(r.detail.exec.sendTsFallbacks).toBe(0);
      // Resolves after warm-up + duration, plus a short stop/drain.
      expect(elapsed).toBeGreaterThanOrEqual(2300);
      expect(elapsed).toBeLessThan(2300 + 5000);
      console.log(
        `baseline (stand-in): ticks=${r.ticks} (${r.ticksPerSec.toFixed(0)}/s) orders=${r.orders} acks=${r.acks} ` +
          `tickToOrder p50=${(r.stages.tickToOrder.p50 / 1000).toFixed(1)}us p99=${(r.stages.tickToOrder.p99 / 1000).toFixed(1)}us ` +
          `venueRtt p50=${(r.stages.venueRtt.p50 / 1000).toFixed(1)}us p99=${(r.stages.venueRtt.p99 / 1000).toFixed(1)}us ` +
          `(exec read->written p50=${(r.detail.exec.send.p50 / 1000).toFixed(1)}us) elapsed=${elapsed}ms`,
      );
    } finally {
      venue.close();
    }
  });

  it('counts venue rejects (wrong secret -> -1022) as rejects, not acks', async () => {
    const venue = await startStandIn();
    try {
      const r = await runBaseline({
        wsUrl: venue.wsUrl,
        restUrl: venue.restUrl,
        apiKey: venue.apiKey,
        apiSecret: 'not-the-secret',
        streams: ['btcusdt@bookTicker'],
        durationMs: 800,
        warmupMs: 100,
        orderEvery: ORDER_EVERY,
        symbol: 'BTCUSDT',
        quantity: '0.001',
      });
      expect(r.orders).toBeGreaterThan(0);
      expect(r.acks).toBe(0);
      expect(r.rejects).toBe(r.orders);
      expect(venue.orders).toBe(0);
      expect(venue.badSignatures).toBeGreaterThanOrEqual(r.orders);
      expect(r.stages.venueRtt.count).toBe(r.orders);
    } finally {
      venue.close();
    }
  });

  it('rejects (and tears its workers down) when the venue is unreachable', async () => {
    const venue = await startStandIn();
    const { wsUrl, restUrl } = venue;
    venue.close(); // nothing listens on that port any more
    await expect(
      runBaseline({
        wsUrl,
        restUrl,
        apiKey: API_KEY,
        apiSecret: API_SECRET,
        streams: ['btcusdt@bookTicker'],
        durationMs: 500,
        warmupMs: 0,
        orderEvery: 5,
        symbol: 'BTCUSDT',
        quantity: '0.001',
      }),
    ).rejects.toThrow(/feed worker/);
  });

  it('rejects bad options before starting workers', async () => {
    const base = { wsUrl: 'ws://127.0.0.1:1', restUrl: 'http://127.0.0.1:1', apiKey: 'k', apiSecret: 's', streams: ['btcusdt@bookTicker'], durationMs: 100, warmupMs: 0, symbol: 'BTCUSDT', quantity: '0.001' };
    await expect(runBaseline({ ...base, orderEvery: 0 })).rejects.toThrow(/orderEvery/);
    await expect(runBaseline({ ...base, orderEvery: 1, streams: [] })).rejects.toThrow(/streams/);
  });

  // The project's venue simulator, once it exists (another engineer's file).
  const simFile = join(PROJECT_ROOT, 'src/sim/binance/BinanceVenue.ts');
  it.skipIf(!existsSync(simFile))('runs against the project venue simulator (src/sim/binance/BinanceVenue.ts)', async () => {
    interface Venue {
      restUrl: string;
      wsUrl: string;
      apiKey: string;
      apiSecret: string;
      close(): unknown;
    }
    const mod = (await import(pathToFileURL(simFile).href)) as {
      startBinanceVenue(o: { port: number; rate: number; seed: number; symbols: string[] }): Venue | Promise<Venue>;
    };
    const venue = await mod.startBinanceVenue({ port: 0, rate: 1000, seed: 1, symbols: ['BTCUSDT'] });
    try {
      const r = await runBaseline({
        wsUrl: venue.wsUrl,
        restUrl: venue.restUrl,
        apiKey: venue.apiKey,
        apiSecret: venue.apiSecret,
        streams: ['btcusdt@bookTicker', 'btcusdt@aggTrade'],
        durationMs: 2000,
        warmupMs: 300,
        orderEvery: ORDER_EVERY,
        symbol: 'BTCUSDT',
        quantity: '0.01',
      });
      console.log(`baseline (simulator): ${JSON.stringify({ ticks: r.ticks, orders: r.orders, acks: r.acks, rejects: r.rejects, stages: r.stages })}`);
      checkResult(r, ORDER_EVERY);
    } finally {
      await venue.close();
    }
  });
});
