import { describe, expect, it } from 'vitest';
import { signHex, signInto, wsApiPayload } from '../src/venues/binance/sign.js';

/*
 * The official vectors of protocols.md §1.5 and the derived WS-API vector of §1.9 are asserted against
 * signHex / wsApiPayload in binance-orders.test.ts. This file holds what that one does not: the same
 * vectors through the allocation-free signInto used by the order encoder, and byte (not string) inputs.
 */

const KEY = 'dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83';
const SECRET = '2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9';
const EX12 = 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943';
const EX3_QUERY = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC';
const EX3_BODY = 'quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943';

const VECTORS: Array<[name: string, payload: string, signature: string]> = [
  ['Ex.1/Ex.2 (query string or body)', EX12, '3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9'],
  ['Ex.3 query + body, no separator', EX3_QUERY + EX3_BODY, '30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4'],
  ['Ex.3 as printed (stray space after timestamp=)', EX3_QUERY + EX3_BODY.replace('timestamp=', 'timestamp= '), 'f9d0ae5e813ef6ccf15c2b5a434047a0181cb5a342b903b367ca6d27a66e36f2'],
];

function viaSignInto(payload: string, prefix = ''): string {
  const secret = Buffer.from(SECRET, 'utf8');
  const out = new Uint8Array(prefix.length + 64 + 8).fill(0x2a);
  out.set(Buffer.from(prefix, 'latin1'), 0);
  const end = signInto(secret, Buffer.from(payload, 'latin1'), out, prefix.length);
  expect(end).toBe(prefix.length + 64);
  // nothing written past the signature
  expect(out[end]).toBe(0x2a);
  expect(Buffer.from(out.subarray(0, prefix.length)).toString('latin1')).toBe(prefix);
  return Buffer.from(out.subarray(prefix.length, end)).toString('latin1');
}

describe('Binance signing: signInto (allocation-free writer) on the official vectors', () => {
  it.each(VECTORS)('%s', (_name, payload, signature) => {
    expect(viaSignInto(payload)).toBe(signature);
    // written in place after a request prefix, as the encoder does
    expect(viaSignInto(payload, `${payload}&signature=`)).toBe(signature);
  });

  it('WS-API derived vector (§1.9) through signInto', () => {
    const p = wsApiPayload({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '1', price: '9000', recvWindow: 5000, timestamp: 1591702613943, apiKey: KEY });
    expect(viaSignInto(p)).toBe('5b8fe2b962b8e1b2b82fb40e548d56147c2a8f835b5f1393ae4b4b90c38b527f');
  });

  it('signHex takes the secret and payload as bytes too', () => {
    const [, payload, signature] = VECTORS[0]!;
    expect(signHex(Buffer.from(SECRET, 'utf8'), new TextEncoder().encode(payload))).toBe(signature);
    expect(signHex(Buffer.from(SECRET, 'utf8'), payload)).toBe(signature);
  });
});
