/**
 * Order transport: undici `Client.dispatch` vs our HttpConnection, same venue, same run.
 *
 * Starts the simulated Binance venue (uWS, in this process) and sends the same signed
 * `POST /fapi/v1/order` (MARKET BUY 0.01 BTCUSDT, newOrderRespType=RESULT, fresh timestamp and
 * signature each time) N times per transport with a gap between sends, alternating between the two
 * transports (and which goes first) so both see the same conditions. Each transport has its own warm
 * keep-alive connection. Measured on this thread with nowNs():
 *   send = call (dispatch / request) -> request bytes written (undici `onRequestSent`, ours `onWritten`)
 *   rtt  = call -> response complete (undici `onComplete`, ours `onResponse`)
 * Signing happens before the call and is not measured (it costs both the same).
 *
 * Run: `node dist/bench/httpTransport.js [requests] [gapMs]` after `tsc`, or call runHttpTransportBench().
 */
import { createHmac } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, type Dispatcher } from 'undici';
import { HttpConnection, type HttpHeaderView, type HttpResponseHandler } from '../src/net/HttpConnection.js';
import { startBinanceVenue } from '../src/sim/binance/BinanceVenue.js';
import { nowNs } from '../src/util/clock.js';

export interface HttpTransportRow {
  sendP50Us: number;
  sendP99Us: number;
  rttP50Us: number;
  rttP99Us: number;
}

type Transport = 'undici' | 'httpConnection';

const ORDER_PATH = '/fapi/v1/order';
const WARMUP = 100;

/** One measured request of either transport. */
class Probe {
  t0 = 0;
  sentTs = 0;
  doneTs = 0;
  status = 0;
  private resolve: (() => void) | null = null;
  private reject: ((e: Error) => void) | null = null;

  arm(): Promise<void> {
    this.t0 = 0;
    this.sentTs = 0;
    this.doneTs = 0;
    this.status = 0;
    return new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  done(status: number): void {
    this.doneTs = nowNs();
    this.status = status;
    this.resolve?.();
  }

  fail(err: Error): void {
    this.reject?.(err);
  }
}

/** undici legacy dispatch handler (no wrapper objects; the shape OrderGateway uses). */
class UndiciHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  constructor(private readonly p: Probe) {}
  onConnect(_abort: (err?: Error) => void): void {}
  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }
  onData(_chunk: Buffer): boolean {
    return true;
  }
  onRequestSent(): void {
    this.p.sentTs = nowNs();
  }
  onComplete(): void {
    this.p.done(this.status);
  }
  onError(err: Error): void {
    this.p.fail(err);
  }
}

class ConnHandler implements HttpResponseHandler {
  constructor(private readonly p: Probe) {}
  onWritten(ts: number): void {
    this.p.sentTs = ts;
  }
  onResponse(status: number, _body: Buffer, _headers: HttpHeaderView): void {
    this.p.done(status);
  }
  onError(err: Error, written: boolean): void {
    this.p.fail(new Error(`${err.message} (written=${written})`));
  }
}

function pct(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summarize(send: Float64Array, rtt: Float64Array): HttpTransportRow {
  const s = Float64Array.from(send).sort();
  const r = Float64Array.from(rtt).sort();
  const us = (ns: number): number => Math.round(ns / 10) / 100;
  return { sendP50Us: us(pct(s, 0.5)), sendP99Us: us(pct(s, 0.99)), rttP50Us: us(pct(r, 0.5)), rttP99Us: us(pct(r, 0.99)) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runHttpTransportBench(opts: { requests?: number; gapMs?: number } = {}): Promise<Record<Transport, HttpTransportRow>> {
  const n = Math.max(1, Math.floor(opts.requests ?? 1000));
  const gapMs = Math.max(0, opts.gapMs ?? 2);
  const venue = await startBinanceVenue({ host: '127.0.0.1', port: 0, rate: 1000, paused: true });
  const origin = new URL(venue.restUrl).origin;
  const client = new Client(origin, {
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 600_000,
    pipelining: 1,
    headersTimeout: 5000,
    bodyTimeout: 5000,
    connect: { noDelay: true },
  });
  const conn = new HttpConnection(origin, { maxInFlight: 1, requestTimeoutMs: 5000 });
  try {
    const secret = venue.apiSecret;
    const undiciHeaders = ['x-mbx-apikey', venue.apiKey, 'content-type', 'application/x-www-form-urlencoded'];
    const headerBlock = Buffer.from(`x-mbx-apikey: ${venue.apiKey}\r\ncontent-type: application/x-www-form-urlencoded\r\n`, 'latin1');
    const signed = (): Buffer => {
      const q = `symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.01&newOrderRespType=RESULT&timestamp=${Date.now()}`;
      return Buffer.from(`${q}&signature=${createHmac('sha256', secret).update(q).digest('hex')}`, 'latin1');
    };

    const probe = new Probe();
    const uh = new UndiciHandler(probe);
    const ch = new ConnHandler(probe);
    const send: Record<Transport, Float64Array> = { undici: new Float64Array(n), httpConnection: new Float64Array(n) };
    const rtt: Record<Transport, Float64Array> = { undici: new Float64Array(n), httpConnection: new Float64Array(n) };
    let bad = 0;

    const once = async (t: Transport, slot: number): Promise<void> => {
      const body = signed();
      const done = probe.arm();
      if (t === 'undici') {
        probe.t0 = nowNs();
        client.dispatch({ origin, path: ORDER_PATH, method: 'POST', headers: undiciHeaders, body }, uh);
      } else {
        probe.t0 = nowNs();
        conn.request('POST', ORDER_PATH, headerBlock, body, ch);
      }
      await done;
      if (probe.status !== 200) bad++;
      if (slot >= 0) {
        send[t][slot] = probe.sentTs - probe.t0;
        rtt[t][slot] = probe.doneTs - probe.t0;
      }
    };

    // Warm both connections (connect, JIT), then the measured, interleaved run.
    await conn.connect();
    for (let i = 0; i < WARMUP; i++) {
      await once('undici', -1);
      await once('httpConnection', -1);
    }
    for (let i = 0; i < n; i++) {
      const first: Transport = i % 2 === 0 ? 'undici' : 'httpConnection';
      const second: Transport = first === 'undici' ? 'httpConnection' : 'undici';
      if (gapMs > 0) await sleep(gapMs);
      await once(first, i);
      if (gapMs > 0) await sleep(gapMs);
      await once(second, i);
    }
    if (bad > 0) throw new Error(`${bad} order requests were not answered 200`);
    if (conn.counters.reconnects !== 0 || conn.counters.errors !== 0) throw new Error(`HttpConnection reconnected or failed: ${JSON.stringify(conn.counters)}`);

    const out: Record<Transport, HttpTransportRow> = {
      undici: summarize(send.undici, rtt.undici),
      httpConnection: summarize(send.httpConnection, rtt.httpConnection),
    };
    console.log(`\nOrder transport: signed POST ${ORDER_PATH} to the uWS venue, ${n} per transport, ${gapMs} ms gap, interleaved (us)`);
    console.log(`${'transport'.padEnd(16)} ${'send p50'.padStart(9)} ${'send p99'.padStart(9)} ${'rtt p50'.padStart(9)} ${'rtt p99'.padStart(9)}`);
    for (const t of ['undici', 'httpConnection'] as const) {
      const r = out[t];
      console.log(`${t.padEnd(16)} ${r.sendP50Us.toFixed(1).padStart(9)} ${r.sendP99Us.toFixed(1).padStart(9)} ${r.rttP50Us.toFixed(1).padStart(9)} ${r.rttP99Us.toFixed(1).padStart(9)}`);
    }
    console.log('send = call -> request bytes written (undici onRequestSent / onWritten); rtt = call -> response complete');
    return out;
  } finally {
    await conn.close();
    await client.close().catch(() => client.destroy());
    await venue.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const requests = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const gapMs = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
  const t0 = Date.now();
  runHttpTransportBench({ requests, gapMs })
    .then(() => console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
