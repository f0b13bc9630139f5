import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  baseAmountOf,
  checkSize,
  contractsForBase,
  contractsForNotional,
  formatPriceTicks,
  gateInstrument,
  parseGateContract,
  parseGateContracts,
  passiveTicks,
  priceTicks,
  signedSize,
} from '../src/venues/gate/contracts.js';
import { GateErrorHandling, GateErrorKind, classifyGateError, gateHandlingOf, gateRejectReasonOf, parseGateErrorBody } from '../src/venues/gate/errors.js';
import { RejectReason } from '../src/ring/layout.js';
import { EMPTY_BODY_SHA512, restSignText, sha512Hex, signChannel, signRestRequest, signWsApi } from '../src/venues/gate/sign.js';
import { gateOrderBody, quoteLongIntegers } from '../src/venues/gate/RestClient.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, fixtureLines, fixturePath } from './helpers/fixtures.js';

// the BTC_USDT fields that matter, as Gate sends them (fixtures contract.json)
const BTC = parseGateContract({
  name: 'BTC_USDT',
  quanto_multiplier: '0.0001',
  order_price_round: '0.1',
  order_size_min: 1,
  order_size_max: 1000000,
  order_price_deviate: '0.5',
  leverage_min: '1',
  leverage_max: '100',
  maker_fee_rate: '-0.000152',
  taker_fee_rate: '0.00075',
  orders_limit: 100,
});
const SMALL = parseGateContract({ name: 'PHB_USDT', quanto_multiplier: '10', order_price_round: '0.0001', order_size_min: 1, order_size_max: 500 });

describe('Gate contracts: exact order sizing in contracts', () => {
  it('reads the rules as integers', () => {
    expect(BTC).toMatchObject({ multiplierUnits: 1, multiplierScale: 4, tickUnits: 1, priceScale: 1, sizeMin: 1, sizeMax: 1000000, makerFeeRate: -0.000152, ordersLimit: 100 });
    expect(gateInstrument(BTC)).toMatchObject({ symbol: 'BTC_USDT', tickUnits: 1, priceScale: 1, stepUnits: 1, qtyScale: 0, minQtySteps: 1 });
  });

  it('base amount -> whole contracts, rounded down, within limits', () => {
    expect(contractsForBase(BTC, '0.0125')).toEqual({ ok: true, contracts: 125 });
    expect(contractsForBase(BTC, '0.01259')).toEqual({ ok: true, contracts: 125 });
    expect(contractsForBase(BTC, '0.00009')).toEqual({ ok: false, reason: 'SIZE_TOO_SMALL' });
    expect(contractsForBase(BTC, '100.0001')).toEqual({ ok: false, reason: 'SIZE_TOO_LARGE' });
    expect(contractsForBase(BTC, '100')).toEqual({ ok: true, contracts: 1000000 });
    expect(contractsForBase(SMALL, '25')).toEqual({ ok: true, contracts: 2 });
    expect(contractsForBase(BTC, '1e-3')).toEqual({ ok: false, reason: 'BAD_AMOUNT' });
    expect(baseAmountOf(BTC, 3)).toBe('0.0003');
    expect(baseAmountOf(SMALL, 3)).toBe('30');
  });

  it('quote notional at a price -> whole contracts (0.1 + 0.2 style floats never decide)', () => {
    // 250 USDT at 26696.1: 250 / 2.66961 = 93.6 contracts -> 93
    expect(contractsForNotional(BTC, '250', '26696.1')).toEqual({ ok: true, contracts: 93 });
    // exactly 3 contracts of 0.0001 at 1000: notional 0.3
    expect(contractsForNotional(BTC, '0.3', '1000')).toEqual({ ok: true, contracts: 3 });
    expect(contractsForNotional(SMALL, '7.379', '0.7379')).toEqual({ ok: true, contracts: 1 });
    expect(contractsForNotional(BTC, '1', '0')).toEqual({ ok: false, reason: 'BAD_AMOUNT' });
  });

  it('prices in ticks of order_price_round; signed sizes', () => {
    expect(priceTicks(BTC, '26696.1')).toBe(266961);
    expect(priceTicks(BTC, '26696.15')).toBe(-1);
    expect(formatPriceTicks(BTC, 266961)).toBe('26696.1');
    expect(formatPriceTicks(SMALL, 7379)).toBe('0.7379');
    expect(passiveTicks(BTC, 1, 26696.19)).toBe(266961);
    expect(passiveTicks(BTC, -1, 26696.11)).toBe(266962);
    expect(passiveTicks(BTC, 1, 0.1 + 0.2)).toBe(3);
    expect(signedSize(-1, 5)).toBe(-5);
    expect(checkSize(SMALL, 501)).toEqual({ ok: false, reason: 'SIZE_TOO_LARGE' });
  });
});

describe('Gate signing (protocols.md §2.8, official vectors)', () => {
  it('GET with a query, no body', () => {
    const q = 'contract=BTC_USD&status=finished&limit=50';
    expect(restSignText('get', '/api/v4/futures/orders', q, '', '1541993715')).toBe(`GET\n/api/v4/futures/orders\n${q}\n${EMPTY_BODY_SHA512}\n1541993715`);
    expect(sha512Hex('')).toBe(EMPTY_BODY_SHA512);
    expect(signRestRequest('secret', 'GET', '/api/v4/futures/orders', q, '', '1541993715')).toBe(
      '55f84ea195d6fe57ce62464daaa7c3c02fa9d1dde954e4c898289c9a2407a3d6fb3faf24deff16790d726b66ac9f74526668b13bd01029199cc4fcc522418b8a',
    );
  });

  it('POST with a body', () => {
    const body = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}';
    expect(sha512Hex(body)).toBe('ad3c169203dc3026558f01b4df307641fa1fa361f086b2306658886d5708767b1854797c68d9e62fef2f991645aa82673622ebf417e091d0bd22bafe5d956cca');
    expect(signRestRequest('secret', 'POST', '/api/v4/futures/orders', '', body, '1541993715')).toBe(
      'eae42da914a590ddf727473aff25fc87d50b64783941061f47a3fdb92742541fc4c2c14017581b4199a1418d54471c269c03a38d788d802e2c306c37636389f0',
    );
  });

  it('the third-party vector, our order body builder, and the derived WS vectors', () => {
    const body = gateOrderBody({ contract: 'BTC_USDT', size: 1, price: '93000', tif: 'gtc' });
    expect(body).toBe('{"contract":"BTC_USDT","size":1,"price":"93000","tif":"gtc"}');
    expect(signRestRequest('3a98ab4e74b5a02acd5156184bf0e5ace7df76f5bafaa02ff3aedc4c22452bfe', 'POST', '/api/v4/futures/usdt/orders', '', body as string, '1735736524')).toBe(
      '8c759c5cb2ae052e0868a120c759279e14a8fff5bba26ac4e1c9f202e124fe83baee060309d3144da9be96057ddf9451995725b3a8c04d3afa4876ec8a540ce9',
    );
    expect(signChannel('secret', 'futures.orders', 'subscribe', 1541993715)).toBe(
      '4cdab02f21aba635fce8684a050806325cb4aa74a93d00c39f2084da73614d2e1d25878ca7c9ebcbde9541cddfc5ae36b1ccde10982eb82fd09f7a30a6d43d84',
    );
    expect(signWsApi('secret', 'futures.login', '', '1541993715')).toBe(
      '2085a2b6f0343904fb273d0dd6fbe5c4724286a72284822976925ec2496b8f744d33aab0f5edfb886c4661951a407fb02e9238cb18dee6743b1ff409b0ab783f',
    );
  });

  it('order bodies are validated before anything is signed', () => {
    expect(gateOrderBody({ contract: 'BTC_USDT', size: -3, price: '26696.1', tif: 'poc', text: 't-abc_1', reduceOnly: true })).toBe(
      '{"contract":"BTC_USDT","size":-3,"price":"26696.1","tif":"poc","text":"t-abc_1","reduce_only":true}',
    );
    expect(gateOrderBody({ contract: 'BTC_USDT', size: 0, price: '0', tif: 'ioc', close: true })).toBe('{"contract":"BTC_USDT","size":0,"price":"0","tif":"ioc","close":true}');
    expect(gateOrderBody({ contract: 'BTC_USDT', size: 1.5, price: '1' })).toEqual({ error: expect.stringMatching(/whole number/) });
    expect(gateOrderBody({ contract: 'BTC_USDT', size: 1, price: '0' })).toEqual({ error: expect.stringMatching(/market order/) });
    expect(gateOrderBody({ contract: 'BTC_USDT', size: 1, price: '1', text: 'abc' })).toEqual({ error: expect.stringMatching(/client id/) });
    expect(gateOrderBody({ contract: 'BTC_USDT', size: 1, price: '1', text: 't-' + 'x'.repeat(29) })).toEqual({ error: expect.stringMatching(/client id/) });
  });

  it('ids above 2^53 survive parsing exactly', () => {
    const text = '{"id":58828270139457759,"create_time":1733801848.473,"fee":0.00092905921234567890123,"size":-1,"s":"58828270139457759"}';
    const o = JSON.parse(quoteLongIntegers(text)) as Record<string, unknown>;
    expect(o).toEqual({ id: '58828270139457759', create_time: 1733801848.473, fee: 0.00092905921234567890123, size: -1, s: '58828270139457759' });
  });
});

describe('Gate error labels', () => {
  it('maps labels to kinds, handling and reject reasons', () => {
    expect(classifyGateError(400, 'ORDER_POC_IMMEDIATE')).toBe(GateErrorKind.PocImmediate);
    expect(gateHandlingOf(GateErrorKind.PocImmediate)).toBe(GateErrorHandling.Expected);
    expect(classifyGateError(401, 'INVALID_SIGNATURE')).toBe(GateErrorKind.InvalidSignature);
    expect(gateHandlingOf(GateErrorKind.InvalidSignature)).toBe(GateErrorHandling.Halt);
    expect(classifyGateError(401, 'REQUEST_EXPIRED')).toBe(GateErrorKind.RequestExpired);
    expect(classifyGateError(400, 'SIZE_TOO_SMALL')).toBe(GateErrorKind.SizeTooSmall);
    expect(gateRejectReasonOf(GateErrorKind.SizeTooSmall)).toBe(RejectReason.LotSize);
    expect(classifyGateError(429, 'TOO_MANY_REQUESTS')).toBe(GateErrorKind.TooManyRequests);
    expect(gateRejectReasonOf(GateErrorKind.TooManyRequests)).toBe(RejectReason.RateLimited);
    expect(classifyGateError(404, 'ORDER_NOT_FOUND')).toBe(GateErrorKind.OrderNotFound);
    expect(gateHandlingOf(GateErrorKind.OrderNotFound)).toBe(GateErrorHandling.AlreadyClosed);
    expect(classifyGateError(502, '')).toBe(GateErrorKind.ServerError);
    expect(gateHandlingOf(GateErrorKind.ServerError)).toBe(GateErrorHandling.Unknown);
    expect(classifyGateError(400, 'SOMETHING_NEW')).toBe(GateErrorKind.OtherReject);
    expect(classifyGateError(201, '')).toBe(GateErrorKind.Ok);
  });

  it.skipIf(!HAVE_SHARED_FIXTURES)('reads every recorded error body (message or detail)', () => {
    const got = fixtureLines('gateio-futures/errors.jsonl')
      .slice(0, 4)
      .map((l) => {
        const e = parseGateErrorBody(l);
        return [e.label, classifyGateError(400, e.label), e.message];
      });
    expect(got).toEqual([
      ['ORDER_POC_IMMEDIATE', GateErrorKind.PocImmediate, 'order price 1700 while counter price 1793.55'],
      ['RISK_LIMIT_TOO_LOW', GateErrorKind.RiskLimit, 'limit 1000000'],
      ['POC_FILL_IMMEDIATELY', GateErrorKind.PocImmediate, 'Order would match and take immediately so its cancelled'],
      ['INVALID_PARAM_VALUE', GateErrorKind.InvalidParam, 'Invalid parameter `text` with value: abc'],
    ]);
  });
});

describe.skipIf(!HAVE_SHARED_FIXTURES)('Gate contracts on the recorded contract list', () => {
  it('parses all 12 contracts and sizes BTC_USDT as the venue would', () => {
    const all = parseGateContracts(readFileSync(fixturePath('gateio-futures/contracts.json'), 'utf8'));
    expect(all.length).toBe(12);
    const btc = all.find((c) => c.name === 'BTC_USDT')!;
    expect([btc.quantoMultiplier, btc.orderPriceRound, btc.sizeMin, btc.sizeMax]).toEqual(['0.0001', '0.1', 1, 1000000]);
    expect(contractsForBase(btc, '0.5')).toEqual({ ok: true, contracts: 5000 });
  });
});

if (!HAVE_SHARED_FIXTURES) {
  describe('Gate contracts and errors on recorded fixtures', () => {
    it.skip(NO_FIXTURES_MESSAGE, () => {});
  });
}
