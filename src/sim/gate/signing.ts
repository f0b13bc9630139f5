import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Gate APIv4 signatures (protocols.md §2.3, §2.7, §2.8), all hex HMAC-SHA512 with the API secret:
 * REST over `METHOD\nPATH\nQUERY\nhex(SHA512(BODY))\nTIMESTAMP`, private WS channels over
 * `channel=<c>&event=<e>&time=<t>`, the WS API over `api\n<channel>\n<req_param JSON>\n<timestamp>`.
 */

export function sha512Hex(s: string): string {
  return createHash('sha512').update(s).digest('hex');
}

export function hmacSha512Hex(secret: string, payload: string): string {
  return createHmac('sha512', secret).update(payload).digest('hex');
}

/** The REST string to sign: method upper-case, path with the /api/v4 prefix, query and body exactly as sent. */
export function restSignString(method: string, path: string, query: string, body: string, timestamp: string): string {
  return `${method.toUpperCase()}\n${path}\n${query}\n${sha512Hex(body)}\n${timestamp}`;
}

export function signRest(secret: string, method: string, path: string, query: string, body: string, timestamp: string): string {
  return hmacSha512Hex(secret, restSignString(method, path, query, body, timestamp));
}

/** SIGN of the `auth` object of a private channel subscription. */
export function signWsChannel(secret: string, channel: string, event: string, time: number | string): string {
  return hmacSha512Hex(secret, `channel=${channel}&event=${event}&time=${time}`);
}

/** The WS API string to sign: the literal event `api`, the channel, req_param's JSON text ('' for login), the timestamp. */
export function wsApiSignString(channel: string, reqParam: string, timestamp: string): string {
  return `api\n${channel}\n${reqParam}\n${timestamp}`;
}

/** Signature of a WS API request: `reqParam` is '' for futures.login, else the JSON text of req_param. */
export function signWsApi(secret: string, channel: string, reqParam: string, timestamp: string): string {
  return hmacSha512Hex(secret, wsApiSignString(channel, reqParam, timestamp));
}

/** Constant-time check of a hex HMAC-SHA512 (any case). */
export function verifyHex512(secret: string, payload: string, signature: string): boolean {
  if (!/^[0-9a-fA-F]{128}$/.test(signature)) return false;
  const want = createHmac('sha512', secret).update(payload).digest();
  const got = Buffer.from(signature, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
