import { createHmac } from 'node:crypto';

/**
 * Binance HMAC-SHA256 request signature (protocols.md §1.5): hex(HMAC_SHA256(secret, totalParams)) where
 * totalParams is the query string followed directly by the body, exactly the bytes sent. node:crypto
 * allocates one Hmac object and the digest per call (~2 µs); there is no allocation-free HMAC in Node.
 */
export function signHex(secret: string | Buffer, payload: string | Uint8Array): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

/** Writes the 64 hex characters of the signature of payload into out at pos; returns the new position. */
export function signInto(secret: Buffer, payload: Uint8Array, out: Uint8Array, pos: number): number {
  const mac = createHmac('sha256', secret).update(payload).digest();
  for (let i = 0; i < 32; i++) {
    const b = mac[i]!;
    out[pos++] = HEX[b >>> 4]!;
    out[pos++] = HEX[b & 15]!;
  }
  return pos;
}
const HEX = new TextEncoder().encode('0123456789abcdef');

/** WS API signing payload (protocols.md §1.9): every param but `signature`, sorted by key, joined k=v&... */
export function wsApiPayload(params: Readonly<Record<string, unknown>>): string {
  return Object.keys(params)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${scalarText(params[k])}`)
    .join('&');
}

function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '';
  return JSON.stringify(v);
}
