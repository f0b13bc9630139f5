/**
 * Baseline exec worker: builds the form body of POST /fapi/v1/order, signs it with HMAC-SHA256
 * (protocols.md §1.5: signature over the exact body, appended last), sends it with the global `fetch`,
 * awaits `res.json()` and posts an ack or reject back to the strategy worker.
 *
 * Stage times (design.md §4), recorded here for measured orders only:
 *   tickToOrder = tick recvTs -> request body written to the socket
 *   venueRtt    = body written -> response JSON parsed
 *   send        = order read here -> body written (extra, reported in `detail` only)
 * "Body written" comes from undici's diagnostics channels, which Node 20's bundled fetch (undici 6)
 * publishes on: `undici:request:create` fires synchronously inside the `fetch()` call, so the request
 * object is tied to the order being sent; `undici:request:bodySent` then fires when the last body
 * chunk has been handed to the socket. If the channel did not fire for an order, the clock read just
 * before `fetch()` is used instead and the order is counted in `sendTsFallbacks`.
 */
import { createHmac } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { parentPort, workerData } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { initHistograms, newHistogram, recordNs, summarize } from '../../src/metrics/StageHistograms.js';
import { nowNs, setClockEpoch } from '../../src/util/clock.js';
import type { ExecStats, ExecToStrategy, ExecWorkerData, OrderIntent, StrategyToExec, WorkerReport } from './messages.js';

/** Per-request timing, keyed by undici's internal request object. */
interface SendCtx {
  bodySentTs: number;
}

const data = workerData as ExecWorkerData;
setClockEpoch(data.epoch);
const port = parentPort;
if (!port) throw new Error('execWorker must run as a worker thread');
const strategy = data.upstream;
const orderUrl = `${data.restUrl.replace(/\/+$/, '')}/fapi/v1/order`;

await initHistograms();
const tickToOrder = newHistogram();
const venueRtt = newHistogram();
const sendHist = newHistogram();

let ordersReceived = 0;
let ordersMeasured = 0;
let acks = 0;
let rejects = 0;
let sendTsFromChannel = 0;
let sendTsFallbacks = 0;
let inFlight = 0;
let eof = false;
let onIdle: (() => void) | null = null;

// --- undici diagnostics channels -------------------------------------------------------------
const byRequest = new WeakMap<object, SendCtx>();
/** Set only for the duration of the synchronous `fetch()` call. */
let sending: SendCtx | null = null;

function requestOf(message: unknown): object | null {
  if (typeof message !== 'object' || message === null) return null;
  const r = (message as { request?: unknown }).request;
  return typeof r === 'object' && r !== null ? r : null;
}

diagnosticsChannel.subscribe('undici:request:create', (message) => {
  if (sending === null) return;
  const req = requestOf(message);
  if (req) byRequest.set(req, sending);
});

diagnosticsChannel.subscribe('undici:request:bodySent', (message) => {
  const ts = nowNs();
  const req = requestOf(message);
  if (!req) return;
  const ctx = byRequest.get(req);
  if (ctx && ctx.bodySentTs === 0) ctx.bodySentTs = ts;
});

// --- orders ----------------------------------------------------------------------------------
function reply(m: ExecToStrategy): void {
  strategy.postMessage(m);
}

function report(m: WorkerReport): void {
  port!.postMessage(m);
}

interface VenueReply {
  status?: unknown;
  orderId?: unknown;
  code?: unknown;
  msg?: unknown;
}

async function sendOrder(o: OrderIntent, readTs: number): Promise<void> {
  const body = `symbol=${o.symbol}&side=${o.side}&type=${o.type}&quantity=${o.quantity}&newOrderRespType=RESULT&recvWindow=5000&timestamp=${Date.now()}`;
  const signature = createHmac('sha256', data.apiSecret).update(body).digest('hex');
  const ctx: SendCtx = { bodySentTs: 0 };
  const preFetchTs = nowNs();
  sending = ctx;
  let pending: Promise<Response>;
  try {
    pending = fetch(orderUrl, {
      method: 'POST',
      headers: { 'X-MBX-APIKEY': data.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
      body: `${body}&signature=${signature}`,
    });
  } finally {
    sending = null;
  }
  let result: ExecToStrategy;
  try {
    const res = await pending;
    const json = (await res.json()) as VenueReply;
    const doneTs = nowNs();
    let sentTs = ctx.bodySentTs;
    if (o.measured) {
      if (sentTs > 0) sendTsFromChannel++;
      else sendTsFallbacks++;
    }
    if (sentTs === 0) sentTs = preFetchTs;
    const code = typeof json.code === 'number' ? json.code : 0;
    const ok = res.ok && code >= 0 && json.orderId !== undefined;
    result = {
      kind: ok ? 'ack' : 'reject',
      id: o.id,
      measured: o.measured,
      status: ok && typeof json.status === 'string' ? json.status : '',
      httpStatus: res.status,
      code: ok ? 0 : code,
      msg: typeof json.msg === 'string' ? json.msg : '',
    };
    if (o.measured) {
      recordNs(tickToOrder, sentTs - o.recvTs);
      recordNs(venueRtt, doneTs - sentTs);
      recordNs(sendHist, sentTs - readTs);
    }
  } catch (err) {
    result = {
      kind: 'reject',
      id: o.id,
      measured: o.measured,
      status: '',
      httpStatus: 0,
      code: 0,
      msg: err instanceof Error ? err.message : String(err),
    };
  }
  if (o.measured) {
    if (result.kind === 'ack') acks++;
    else rejects++;
  }
  reply(result);
}

function finish(): void {
  const stats: ExecStats = {
    ordersReceived,
    ordersMeasured,
    acks,
    rejects,
    inFlightAtEnd: inFlight,
    sendTsFromChannel,
    sendTsFallbacks,
    tickToOrder: summarize(tickToOrder),
    venueRtt: summarize(venueRtt),
    send: summarize(sendHist),
    tickToOrderEncoded: tickToOrder.totalCount > 0 ? hdr.encodeIntoCompressedBase64(tickToOrder) : '',
    venueRttEncoded: venueRtt.totalCount > 0 ? hdr.encodeIntoCompressedBase64(venueRtt) : '',
  };
  report({ kind: 'done', role: 'exec', stats });
}

strategy.on('message', (m: StrategyToExec) => {
  const readTs = nowNs();
  if (m.kind === 'eof') {
    eof = true;
    if (inFlight === 0) {
      finish();
      return;
    }
    const timer = setTimeout(() => {
      onIdle = null;
      finish();
    }, data.drainMs);
    onIdle = () => {
      clearTimeout(timer);
      onIdle = null;
      finish();
    };
    return;
  }
  if (eof) return;
  ordersReceived++;
  if (m.measured) ordersMeasured++;
  inFlight++;
  void sendOrder(m, readTs).finally(() => {
    inFlight--;
    if (inFlight === 0 && onIdle) onIdle();
  });
});

report({ kind: 'ready', role: 'exec' });
