import { Pool } from 'undici';
import type { RejectReason } from '../../ring/layout.js';
import {
  GateErrorHandling,
  GateErrorKind,
  classifyGateError,
  classifyGateNoResponse,
  gateErrorKindName,
  gateHandlingOf,
  gateRejectReasonOf,
  parseGateErrorBody,
} from './errors.js';
import { parseGateOrderBook, type GateOrderBookSnapshot } from './book.js';
import { parseGateContract, type GateContractRules } from './contracts.js';
import { signRestRequest } from './sign.js';

/**
 * Gate USDT-futures REST v4 client (protocols.md §2.8-§2.10) on one keep-alive undici Pool: orders (place,
 * cancel, cancel all, countdown cancel-all, query), positions, leverage, account, and the public contract
 * and order-book endpoints. Private calls carry KEY / Timestamp / SIGN. Venue and transport errors come back
 * as a typed result (label -> GateErrorKind -> handling and ring-C reason), never as an exception.
 *
 * Order ids exceed 2^53 (58828270139457759): response bodies are parsed with every integer literal of 16 or
 * more digits turned into a string first, so `id` fields arrive as exact decimal strings.
 */

export type GateTif = 'gtc' | 'ioc' | 'poc' | 'fok';

export interface GateOrderRequest {
  contract: string;
  /** whole contracts, signed: > 0 buys, < 0 sells; 0 only with `close` */
  size: number;
  /** decimal text; "0" with tif ioc / fok is a market order */
  price: string;
  tif?: GateTif;
  reduceOnly?: boolean;
  /** close the (single-mode) position; size must be 0 */
  close?: boolean;
  /** client order id: `t-` + up to 28 of [0-9A-Za-z_.-] */
  text?: string;
  /** shown size, 0 = none */
  iceberg?: number;
  /** reject if the venue receives the request after this time (ms) */
  expiresAtMs?: number;
}

/** An order as Gate answers it; `id` is an exact decimal string. Numbers that Gate writes as text stay text. */
export interface GateOrder {
  id: string;
  user: string;
  contract: string;
  create_time: number;
  finish_time?: number;
  finish_as?: string;
  status: 'open' | 'finished';
  size: number;
  left: number;
  iceberg: number;
  price: string;
  fill_price: string;
  tif: string;
  text: string;
  is_reduce_only: boolean;
  is_close: boolean;
  is_liq: boolean;
  tkfr: string;
  mkfr: string;
  [k: string]: unknown;
}

export interface GatePosition {
  contract: string;
  size: number;
  leverage: string;
  entry_price: string;
  mark_price: string;
  liq_price: string;
  margin: string;
  value: string;
  unrealised_pnl: string;
  realised_pnl: string;
  mode: string;
  cross_leverage_limit: string;
  [k: string]: unknown;
}

export interface GateAccount {
  user: string;
  currency: string;
  total: string;
  available: string;
  unrealised_pnl: string;
  position_margin: string;
  order_margin: string;
  in_dual_mode: boolean;
  [k: string]: unknown;
}

export interface GateRateInfo {
  remain: number;
  limit: number;
  resetMs: number;
}

export type GateResult<T> =
  | { ok: true; status: number; value: T; rate: GateRateInfo | null }
  | {
      ok: false;
      status: number;
      kind: GateErrorKind;
      handling: GateErrorHandling;
      reason: RejectReason;
      label: string;
      message: string;
      rate: GateRateInfo | null;
    };

export interface GateRestClientOptions {
  /** REST base including the version prefix, e.g. https://api.gateio.ws/api/v4 or http://127.0.0.1:P/api/v4 */
  baseUrl: string;
  apiKey?: string;
  apiSecret?: string;
  /** settle currency of the futures paths (default usdt) */
  settle?: string;
  /** header + body timeout per request (default 10 000 ms) */
  timeoutMs?: number;
  /** venue-aligned clock in ms (default Date.now); Timestamp must be within 60 s of the venue */
  clock?: () => number;
  connections?: number;
}

const CLIENT_ID_RE = /^t-[0-9A-Za-z_.-]{1,28}$/;
const CONTRACT_RE = /^[A-Z0-9_]{1,40}$/;

export class GateRestClient {
  private readonly pool: Pool;
  /** path prefix of the base url (/api/v4): part of the signed path */
  private readonly prefix: string;
  private readonly futures: string;
  private readonly key: string;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly clock: () => number;
  /** requests sent, and answers per kind name (for stats) */
  readonly counters = { requests: 0, errors: 0 };

  constructor(opts: GateRestClientOptions) {
    const u = new URL(opts.baseUrl);
    this.prefix = u.pathname.replace(/\/+$/, '');
    this.futures = `${this.prefix}/futures/${opts.settle ?? 'usdt'}`;
    this.pool = new Pool(u.origin, { connections: opts.connections ?? 2, keepAliveTimeout: 30_000, pipelining: 1 });
    this.key = opts.apiKey ?? '';
    this.secret = opts.apiSecret ?? '';
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.clock = opts.clock ?? Date.now;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  // ------------------------------------------------------------------ public

  async contracts(): Promise<GateResult<GateContractRules[]>> {
    const r = await this.send<unknown[]>('GET', `${this.futures}/contracts`, '', '', false);
    if (!r.ok) return r;
    try {
      return { ...r, value: r.value.map(parseGateContract) };
    } catch (e) {
      return this.badResponse(r.status, (e as Error).message);
    }
  }

  async contract(name: string): Promise<GateResult<GateContractRules>> {
    const r = await this.send<unknown>('GET', `${this.futures}/contracts/${encodeURIComponent(name)}`, '', '', false);
    if (!r.ok) return r;
    try {
      return { ...r, value: parseGateContract(r.value) };
    } catch (e) {
      return this.badResponse(r.status, (e as Error).message);
    }
  }

  /** Order-book snapshot with its update id (`with_id=true`), for the book sync. */
  async orderBook(contract: string, limit: number): Promise<GateResult<GateOrderBookSnapshot>> {
    const q = `contract=${encodeURIComponent(contract)}&limit=${limit}&with_id=true`;
    const r = await this.sendText('GET', `${this.futures}/order_book`, q, '', false);
    if (!r.ok) return r;
    try {
      return { ...r, value: parseGateOrderBook(r.value) };
    } catch (e) {
      return this.badResponse(r.status, (e as Error).message);
    }
  }

  // ------------------------------------------------------------------ orders

  /** `POST /futures/usdt/orders`. Validated locally first (contract, integer size, price, tif, client id). */
  async placeOrder(o: GateOrderRequest): Promise<GateResult<GateOrder>> {
    const body = gateOrderBody(o);
    if (typeof body !== 'string') return this.localInvalid(body.error);
    const headers = o.expiresAtMs !== undefined ? { 'x-gate-exptime': String(Math.floor(o.expiresAtMs)) } : undefined;
    return this.order(await this.send<GateOrder>('POST', `${this.futures}/orders`, '', body, true, headers));
  }

  /** `DELETE /futures/usdt/orders/{id}`: by order id or by the `t-...` client id. */
  async cancelOrder(orderIdOrText: string): Promise<GateResult<GateOrder>> {
    if (!/^(\d{1,20}|t-[0-9A-Za-z_.-]{1,28})$/.test(orderIdOrText)) return this.localInvalid(`not an order id or client id: ${orderIdOrText}`);
    return this.order(await this.send<GateOrder>('DELETE', `${this.futures}/orders/${orderIdOrText}`, '', '', true));
  }

  /** `DELETE /futures/usdt/orders?contract=X[&side=bid|ask]`: the cancelled orders. */
  async cancelAll(contract: string, side?: 'bid' | 'ask'): Promise<GateResult<GateOrder[]>> {
    if (!CONTRACT_RE.test(contract)) return this.localInvalid(`bad contract: ${contract}`);
    const q = `contract=${contract}${side ? `&side=${side}` : ''}`;
    return this.orders(await this.send<GateOrder[]>('DELETE', `${this.futures}/orders`, q, '', true));
  }

  async getOrder(orderIdOrText: string): Promise<GateResult<GateOrder>> {
    if (!/^(\d{1,20}|t-[0-9A-Za-z_.-]{1,28})$/.test(orderIdOrText)) return this.localInvalid(`not an order id or client id: ${orderIdOrText}`);
    return this.order(await this.send<GateOrder>('GET', `${this.futures}/orders/${orderIdOrText}`, '', '', true));
  }

  async listOrders(contract: string, status: 'open' | 'finished', limit = 100): Promise<GateResult<GateOrder[]>> {
    if (!CONTRACT_RE.test(contract)) return this.localInvalid(`bad contract: ${contract}`);
    return this.orders(await this.send<GateOrder[]>('GET', `${this.futures}/orders`, `contract=${contract}&status=${status}&limit=${limit}`, '', true));
  }

  /**
   * Dead-man switch: every open order (of `contract`, or all) is cancelled unless this is called again
   * within `timeoutS` seconds (>= 5; 0 switches it off). Returns the trigger time (ms) as Gate gives it.
   */
  async countdownCancelAll(timeoutS: number, contract?: string): Promise<GateResult<{ triggerTime: string }>> {
    if (!Number.isSafeInteger(timeoutS) || timeoutS < 0 || (timeoutS > 0 && timeoutS < 5)) return this.localInvalid(`countdown timeout must be 0 or >= 5 s; got ${timeoutS}`);
    const body = contract === undefined ? `{"timeout":${timeoutS}}` : `{"timeout":${timeoutS},"contract":${JSON.stringify(contract)}}`;
    const r = await this.send<{ triggerTime?: unknown }>('POST', `${this.futures}/countdown_cancel_all`, '', body, true);
    if (!r.ok) return r;
    return { ...r, value: { triggerTime: String(r.value.triggerTime ?? '') } };
  }

  // ------------------------------------------------------------------ positions and account

  async positions(holdingOnly = false): Promise<GateResult<GatePosition[]>> {
    return this.send<GatePosition[]>('GET', `${this.futures}/positions`, holdingOnly ? 'holding=true' : '', '', true);
  }

  async position(contract: string): Promise<GateResult<GatePosition>> {
    if (!CONTRACT_RE.test(contract)) return this.localInvalid(`bad contract: ${contract}`);
    return this.send<GatePosition>('GET', `${this.futures}/positions/${contract}`, '', '', true);
  }

  /** Leverage as query parameters (no body); 0 = cross margin at `crossLeverageLimit`. Returns the position. */
  async setLeverage(contract: string, leverage: number, crossLeverageLimit?: number): Promise<GateResult<GatePosition>> {
    if (!CONTRACT_RE.test(contract)) return this.localInvalid(`bad contract: ${contract}`);
    if (!Number.isSafeInteger(leverage) || leverage < 0) return this.localInvalid(`leverage must be a whole number >= 0; got ${leverage}`);
    const q = `leverage=${leverage}${crossLeverageLimit !== undefined ? `&cross_leverage_limit=${crossLeverageLimit}` : ''}`;
    return this.send<GatePosition>('POST', `${this.futures}/positions/${contract}/leverage`, q, '', true);
  }

  async account(): Promise<GateResult<GateAccount>> {
    return this.send<GateAccount>('GET', `${this.futures}/accounts`, '', '', true);
  }

  // ------------------------------------------------------------------ plumbing

  /** Signed headers of a request (exposed for the WS transport's tests and for diagnostics). */
  signedHeaders(method: string, path: string, query: string, body: string): Record<string, string> {
    const ts = String(Math.floor(this.clock() / 1000));
    return { KEY: this.key, Timestamp: ts, SIGN: signRestRequest(this.secret, method, path, query, body, ts) };
  }

  private async send<T>(method: string, path: string, query: string, body: string, signed: boolean, extra?: Record<string, string>): Promise<GateResult<T>> {
    const r = await this.sendText(method, path, query, body, signed, extra);
    if (!r.ok) return r;
    try {
      return { ...r, value: parseLossless(r.value) as T };
    } catch {
      return this.badResponse(r.status, 'response body is not JSON');
    }
  }

  private async sendText(method: string, path: string, query: string, body: string, signed: boolean, extra?: Record<string, string>): Promise<GateResult<string>> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (body !== '') headers['Content-Type'] = 'application/json';
    if (signed) {
      if (this.key === '' || this.secret === '') return this.localInvalid('no API key / secret configured');
      Object.assign(headers, this.signedHeaders(method, path, query, body));
    }
    this.counters.requests++;
    let written = false;
    let status = 0;
    let text = '';
    let rh: Record<string, string | string[] | undefined> = {};
    try {
      const res = await this.pool.request({
        method: method as 'GET',
        path: query === '' ? path : `${path}?${query}`,
        headers,
        body: body === '' ? null : body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      written = true;
      status = res.statusCode;
      rh = res.headers;
      text = await res.body.text();
    } catch (e) {
      this.counters.errors++;
      const code = (e as { code?: string }).code ?? '';
      // a refused / reset connect never carried the request; anything later may have
      const notSent = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'UND_ERR_CONNECT_TIMEOUT';
      const timedOut = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
      const kind = classifyGateNoResponse(written || !notSent, timedOut);
      return this.fail(0, kind, '', (e as Error).message, null);
    }
    const rate = rateOf(rh);
    if (status >= 200 && status < 300) return { ok: true, status, value: text, rate };
    this.counters.errors++;
    const err = parseGateErrorBody(text);
    return this.fail(status, classifyGateError(status, err.label), err.label, err.message, rate);
  }

  private order(r: GateResult<GateOrder>): GateResult<GateOrder> {
    if (!r.ok) return r;
    if (typeof r.value !== 'object' || r.value === null || r.value.id === undefined) return this.badResponse(r.status, 'no order id in the answer');
    return { ...r, value: normalizeOrder(r.value) };
  }

  private orders(r: GateResult<GateOrder[]>): GateResult<GateOrder[]> {
    if (!r.ok) return r;
    if (!Array.isArray(r.value)) return this.badResponse(r.status, 'expected a list of orders');
    return { ...r, value: r.value.map(normalizeOrder) };
  }

  private fail<T>(status: number, kind: GateErrorKind, label: string, message: string, rate: GateRateInfo | null): GateResult<T> {
    return { ok: false, status, kind, handling: gateHandlingOf(kind), reason: gateRejectReasonOf(kind), label: label || gateErrorKindName(kind), message, rate };
  }

  private badResponse<T>(status: number, message: string): GateResult<T> {
    return this.fail(status, GateErrorKind.BadResponse, '', message, null);
  }

  private localInvalid<T>(message: string): GateResult<T> {
    return this.fail(0, GateErrorKind.LocalInvalid, '', message, null);
  }
}

/**
 * The JSON body of an order, keys in a fixed order, or the reason it cannot be sent. Exported for the WS
 * order transport (`req_param` is the same object).
 */
export function gateOrderBody(o: GateOrderRequest): string | { error: string } {
  if (!CONTRACT_RE.test(o.contract)) return { error: `bad contract: ${o.contract}` };
  if (!Number.isSafeInteger(o.size)) return { error: `size must be a whole number of contracts; got ${o.size}` };
  if (o.size === 0 && o.close !== true) return { error: 'size 0 is only valid with close' };
  if (!/^\d+(\.\d+)?$/.test(o.price)) return { error: `price must be plain decimal text; got ${JSON.stringify(o.price)}` };
  const tif = o.tif ?? 'gtc';
  if (o.price === '0' && tif !== 'ioc' && tif !== 'fok') return { error: 'a market order (price "0") needs tif ioc or fok' };
  if (o.text !== undefined && !CLIENT_ID_RE.test(o.text)) return { error: `client id must be t- and up to 28 of [0-9A-Za-z_.-]; got ${JSON.stringify(o.text)}` };
  if (o.iceberg !== undefined && (!Number.isSafeInteger(o.iceberg) || o.iceberg < 0)) return { error: `iceberg must be a whole number >= 0` };
  let s = `{"contract":"${o.contract}","size":${o.size},"price":"${o.price}","tif":"${tif}"`;
  if (o.text !== undefined) s += `,"text":"${o.text}"`;
  if (o.reduceOnly) s += ',"reduce_only":true';
  if (o.close) s += ',"close":true';
  if (o.iceberg !== undefined && o.iceberg > 0) s += `,"iceberg":${o.iceberg}`;
  return s + '}';
}

/** Ids as strings, sizes as numbers (decimal-size mode sends them as text). */
function normalizeOrder(o: GateOrder): GateOrder {
  const out = { ...o };
  out.id = String(o.id);
  out.user = String(o.user ?? '');
  if (typeof o.size === 'string') out.size = Number(o.size);
  if (typeof o.left === 'string') out.left = Number(o.left);
  out.price = String(o.price ?? '');
  out.fill_price = String(o.fill_price ?? '');
  return out;
}

function rateOf(h: Record<string, string | string[] | undefined>): GateRateInfo | null {
  const one = (k: string): number => {
    const v = h[k];
    const s = Array.isArray(v) ? v[0] : v;
    return s === undefined ? NaN : Number(s);
  };
  const limit = one('x-gate-ratelimit-limit');
  if (!(limit === limit)) return null;
  return { limit, remain: one('x-gate-ratelimit-requests-remain'), resetMs: one('x-gate-ratelimit-reset-timestamp') };
}

/**
 * JSON.parse with every bare integer literal of 16 or more digits turned into a string, so ids above 2^53
 * survive exactly (JSON.parse would round them before any reviver sees them). Off the hot path.
 */
export function parseLossless(text: string): unknown {
  return JSON.parse(quoteLongIntegers(text));
}

export function quoteLongIntegers(text: string): string {
  let out = '';
  let last = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) {
      inStr = true;
      continue;
    }
    if ((c >= 48 && c <= 57) || c === 45) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      const next = j < text.length ? text.charCodeAt(j) : 0;
      const digits = j - i - (c === 45 ? 1 : 0);
      // a plain integer (no fraction or exponent) too long for a double
      if (next === 46 || next === 101 || next === 69) {
        // a fraction or exponent: skip the whole number, its digits are no integer of their own
        while (j < text.length && /[0-9eE+.-]/.test(text[j]!)) j++;
      } else if (digits >= 16) {
        out += text.slice(last, i) + '"' + text.slice(i, j) + '"';
        last = j;
      }
      i = j - 1;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}
