import { createHash, createHmac } from 'node:crypto';

/**
 * Gate APIv4 signatures (protocols.md §2.3, §2.7, §2.8). All are hex(HMAC_SHA512(secret, text)); only the
 * signed text differs between REST, private-channel subscriptions and the WebSocket API.
 */

/** hex(SHA512("")): the body hash of a request without a body. */
export const EMPTY_BODY_SHA512 =
  'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';

export function sha512Hex(data: string | Uint8Array): string {
  if (typeof data === 'string' && data.length === 0) return EMPTY_BODY_SHA512;
  return createHash('sha512').update(data).digest('hex');
}

export function hmacSha512Hex(secret: string | Buffer, text: string | Uint8Array): string {
  return createHmac('sha512', secret).update(text).digest('hex');
}

/**
 * The REST string to sign: METHOD, PATH (with the /api/v4 prefix, without host and query), QUERY exactly as
 * sent ('' if none), hex(SHA512(BODY)) of the exact body bytes, TIMESTAMP (unix seconds), joined by '\n'.
 */
export function restSignText(method: string, path: string, query: string, body: string | Uint8Array, timestampS: string): string {
  return `${method.toUpperCase()}\n${path}\n${query}\n${sha512Hex(body)}\n${timestampS}`;
}

/** The SIGN header of a REST request. */
export function signRestRequest(
  secret: string | Buffer,
  method: string,
  path: string,
  query: string,
  body: string | Uint8Array,
  timestampS: string,
): string {
  return hmacSha512Hex(secret, restSignText(method, path, query, body, timestampS));
}

/** `auth.SIGN` of a private-channel subscribe / unsubscribe: over `channel=<c>&event=<e>&time=<s>`. */
export function signChannel(secret: string | Buffer, channel: string, event: string, timeS: number): string {
  return hmacSha512Hex(secret, `channel=${channel}&event=${event}&time=${timeS}`);
}

/**
 * WebSocket API signature: over `api\n<channel>\n<req_param JSON text>\n<timestamp>`; `reqParam` is '' for
 * `futures.login` and the exact JSON text of `req_param` for a per-request signature.
 */
export function signWsApi(secret: string | Buffer, channel: string, reqParam: string, timestampS: string): string {
  return hmacSha512Hex(secret, `api\n${channel}\n${reqParam}\n${timestampS}`);
}
