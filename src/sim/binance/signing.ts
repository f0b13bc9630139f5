import { createHmac, timingSafeEqual } from 'node:crypto';
import { E, type BinanceError } from './errors.js';
import { signHex, wsApiPayload } from '../../venues/binance/sign.js';

/** One signing rule for the engine and the simulator: the dialect's own (venues/binance/sign.ts). */
export { wsApiPayload };

/** hex(HMAC-SHA256(secret, payload)). */
export function hmacSha256Hex(secret: string, payload: string): string {
  return signHex(secret, payload);
}

/**
 * Splits the `signature` parameter off a query string or form body (it may be anywhere, though Binance
 * asks for it last). Returns the remaining bytes exactly as sent, and the signature value (null when
 * absent). Only the first `signature` parameter counts.
 */
export function stripSignature(s: string): { rest: string; signature: string | null } {
  // Start of "signature=": at the very beginning, or right after an '&'.
  let start: number;
  if (s.startsWith('signature=')) start = 0;
  else {
    const amp = s.indexOf('&signature=');
    if (amp < 0) return { rest: s, signature: null };
    start = amp + 1;
  }
  const valStart = start + 'signature='.length;
  let end = s.indexOf('&', valStart);
  if (end < 0) end = s.length;
  const signature = s.slice(valStart, end);
  // Drop the parameter with one of its separators.
  const rest = start === 0 ? (end < s.length ? s.slice(end + 1) : '') : s.slice(0, start - 1) + s.slice(end);
  return { rest, signature };
}

/**
 * The Binance REST signing rule (protocols.md §1.5): signature = hex(HMAC_SHA256(secret, totalParams))
 * where totalParams is the query string followed directly by the body (no '&' between), both as sent,
 * without the `signature` parameter. Returns the payload and the signature found (query first, then body).
 */
export function signedPayload(query: string, body: string): { payload: string; signature: string | null } {
  const q = stripSignature(query);
  const b = stripSignature(body);
  return { payload: q.rest + b.rest, signature: q.signature ?? b.signature };
}

/** true when the signature (hex, any case) matches HMAC-SHA256(secret, payload). */
export function verifyHex(secret: string, payload: string, signature: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const want = createHmac('sha256', secret).update(payload).digest();
  const got = Buffer.from(signature, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** Verifies a REST request's signature given the raw query string and raw body. */
export function verifySignature(secret: string, query: string, body: string): boolean {
  const { payload, signature } = signedPayload(query, body);
  return signature !== null && verifyHex(secret, payload, signature);
}

/**
 * Request parameters from the query string and the x-www-form-urlencoded body; on a key present in both,
 * the query-string value wins (Binance rule). Within one source the first occurrence counts.
 */
export function parseParams(query: string, body: string): Map<string, string> {
  const out = new Map<string, string>();
  if (query.length > 0) for (const [k, v] of new URLSearchParams(query)) if (!out.has(k)) out.set(k, v);
  if (body.length > 0) for (const [k, v] of new URLSearchParams(body)) if (!out.has(k)) out.set(k, v);
  return out;
}

const INT_RE = /^\d{1,16}$/;

/**
 * Timing check of a SIGNED request: `timestamp` mandatory, `recvWindow` optional (default 5000, at most
 * 60000). Accepted iff timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow (-1021).
 */
export function checkTimestamp(params: Map<string, string>, serverTime: number): BinanceError | null {
  const ts = params.get('timestamp');
  if (ts === undefined || !INT_RE.test(ts)) return E.mandatory('timestamp');
  const rw = params.get('recvWindow');
  let recvWindow = 5000;
  if (rw !== undefined) {
    if (!INT_RE.test(rw)) return E.invalidData('recvWindow');
    recvWindow = Number(rw);
    if (recvWindow <= 0 || recvWindow > 60000) return E.invalidData('recvWindow');
  }
  const t = Number(ts);
  if (!(t < serverTime + 1000 && serverTime - t <= recvWindow)) return E.invalidTimestamp();
  return null;
}

