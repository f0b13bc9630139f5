import { describe, expect, it } from 'vitest';
import {
  BINANCE_ERROR_CODES,
  BinanceErrorKind,
  ErrorHandling,
  certainlyNotPlaced,
  classifyBinanceError,
  classifyNoResponse,
  errorKindName,
  handlingOf,
  kindOfCode,
  parseBanUntil,
  rejectReasonOf,
} from '../src/venues/binance/errors.js';
import { RejectReason } from '../src/ring/layout.js';
import { HAVE_SHARED_FIXTURES, fixtureLines } from './helpers/fixtures.js';
import { steadyHeapGrowth } from './helpers/steadyHeap.js';


/**
 * protocols.md §1.10 (and §1.6), restated as expectations: code -> handling class, and the ring-C reason
 * where the table names a filter or a rate limit. Written out here rather than read back from errors.ts.
 */
const TABLE: Array<[code: number, handling: ErrorHandling, reason?: RejectReason]> = [
  [-1000, ErrorHandling.Unknown],
  [-1001, ErrorHandling.Unknown],
  [-1003, ErrorHandling.Backoff, RejectReason.RateLimited],
  [-1006, ErrorHandling.Unknown],
  [-1007, ErrorHandling.Unknown, RejectReason.Timeout],
  [-1008, ErrorHandling.Backoff, RejectReason.RateLimited],
  [-1015, ErrorHandling.Backoff, RejectReason.RateLimited],
  [-1021, ErrorHandling.RetryAfterClockSync],
  [-1022, ErrorHandling.Definite, RejectReason.Venue],
  [-1102, ErrorHandling.Definite, RejectReason.Venue],
  [-1106, ErrorHandling.Definite, RejectReason.Venue],
  [-1130, ErrorHandling.Definite, RejectReason.Venue],
  [-1111, ErrorHandling.Definite, RejectReason.Venue],
  [-1116, ErrorHandling.Definite, RejectReason.Venue],
  [-1117, ErrorHandling.Definite, RejectReason.Venue],
  [-1121, ErrorHandling.Definite, RejectReason.Venue],
  [-1125, ErrorHandling.Definite, RejectReason.Venue],
  [-2010, ErrorHandling.Definite, RejectReason.Venue],
  [-2011, ErrorHandling.AlreadyClosed],
  [-2013, ErrorHandling.Definite],
  [-2014, ErrorHandling.Halt, RejectReason.Halted],
  [-2015, ErrorHandling.Halt, RejectReason.Halted],
  [-2018, ErrorHandling.Definite, RejectReason.Venue],
  [-2019, ErrorHandling.Definite, RejectReason.Venue],
  [-2021, ErrorHandling.Definite],
  [-2022, ErrorHandling.Definite],
  [-2024, ErrorHandling.Definite],
  [-2025, ErrorHandling.Definite],
  [-2027, ErrorHandling.Definite, RejectReason.MaxPosition],
  [-2028, ErrorHandling.Definite],
  [-4003, ErrorHandling.Definite, RejectReason.LotSize],
  [-4004, ErrorHandling.Definite, RejectReason.LotSize],
  [-4005, ErrorHandling.Definite, RejectReason.LotSize],
  [-4013, ErrorHandling.Definite, RejectReason.PriceFilter],
  [-4014, ErrorHandling.Definite, RejectReason.PriceFilter],
  [-4016, ErrorHandling.Definite, RejectReason.PercentPrice],
  [-4024, ErrorHandling.Definite, RejectReason.PercentPrice],
  [-4015, ErrorHandling.Definite],
  [-4023, ErrorHandling.Definite, RejectReason.LotSize],
  [-4028, ErrorHandling.Definite],
  [-4061, ErrorHandling.Definite],
  [-4116, ErrorHandling.Definite],
  [-4118, ErrorHandling.Definite],
  [-4131, ErrorHandling.Definite, RejectReason.PercentPrice],
  [-4164, ErrorHandling.Definite, RejectReason.MinNotional],
  [-4400, ErrorHandling.Definite],
  [-4401, ErrorHandling.Definite],
  [-5021, ErrorHandling.Expected],
  [-5022, ErrorHandling.Expected],
  [-5027, ErrorHandling.Definite],
  [-5028, ErrorHandling.RetryAfterClockSync],
];

/** The HTTP status the venue pairs with a code, for the table test. */
function statusFor(code: number): number {
  if (code === -1003 || code === -1015) return 429;
  if (code === -2015 || code === -2014) return 401;
  if (code === -1006 || code === -1007 || code === -1000 || code === -1001) return 503;
  return 400;
}

describe('Binance error classification: protocols.md §1.10 table', () => {
  it.each(TABLE)('code %i -> handling %i', (code, handling, reason) => {
    const kind = classifyBinanceError(statusFor(code), code, 'whatever the message says');
    expect(kind).toBe(kindOfCode(code));
    expect(handlingOf(kind)).toBe(handling);
    if (reason !== undefined) expect(rejectReasonOf(kind)).toBe(reason);
    // the same code with a plain 400 classifies the same (codes are stable, statuses vary)
    if (statusFor(code) === 400) expect(classifyBinanceError(400, code, '')).toBe(kind);
  });

  it('every code of the table is known, every known code has a name and is never Ok', () => {
    const known = new Set(BINANCE_ERROR_CODES.map((e) => e.code));
    for (const [code] of TABLE) expect(known.has(code), `code ${code}`).toBe(true);
    for (const { code, kind } of BINANCE_ERROR_CODES) {
      expect(code).toBeLessThan(0);
      expect(kind).not.toBe(BinanceErrorKind.Ok);
      expect(errorKindName(kind)).not.toMatch(/^kind#/);
    }
    expect(new Set(BINANCE_ERROR_CODES.map((e) => e.code)).size).toBe(BINANCE_ERROR_CODES.length);
  });

  it('unknown-execution codes are never "certainly not placed"; the rest are', () => {
    for (const [code, handling] of TABLE) {
      const k = classifyBinanceError(400, code, '');
      expect(certainlyNotPlaced(handlingOf(k)), `code ${code}`).toBe(handling !== ErrorHandling.Unknown);
    }
  });
});

describe.skipIf(!HAVE_SHARED_FIXTURES)('Binance error classification: real bodies (errors.jsonl)', () => {
  const expected: Record<number, [BinanceErrorKind, ErrorHandling]> = {
    [-5022]: [BinanceErrorKind.PostOnlyWouldTake, ErrorHandling.Expected],
    [-5021]: [BinanceErrorKind.FokNotFilled, ErrorHandling.Expected],
    [-5028]: [BinanceErrorKind.MeRecvWindow, ErrorHandling.RetryAfterClockSync],
    [-2019]: [BinanceErrorKind.MarginInsufficient, ErrorHandling.Definite],
    [-4164]: [BinanceErrorKind.MinNotional, ErrorHandling.Definite],
    [-4028]: [BinanceErrorKind.InvalidLeverage, ErrorHandling.Definite],
    [-4051]: [BinanceErrorKind.IsolatedBalanceInsufficient, ErrorHandling.Definite],
    [-1022]: [BinanceErrorKind.InvalidSignature, ErrorHandling.Definite],
    [-1128]: [BinanceErrorKind.OptionalParamsBadCombo, ErrorHandling.Definite],
    [-1003]: [BinanceErrorKind.TooManyRequests, ErrorHandling.Backoff],
    [-1121]: [BinanceErrorKind.InvalidSymbol, ErrorHandling.Definite],
    [-2011]: [BinanceErrorKind.CancelRejected, ErrorHandling.AlreadyClosed],
    [-2021]: [BinanceErrorKind.WouldImmediatelyTrigger, ErrorHandling.Definite],
    [-2015]: [BinanceErrorKind.InvalidApiKey, ErrorHandling.Halt],
    [-1102]: [BinanceErrorKind.MandatoryParamMissing, ErrorHandling.Definite],
    [-1008]: [BinanceErrorKind.Throttled, ErrorHandling.Backoff],
    [-1021]: [BinanceErrorKind.InvalidTimestamp, ErrorHandling.RetryAfterClockSync],
    [-2022]: [BinanceErrorKind.ReduceOnlyRejected, ErrorHandling.Definite],
    [-4131]: [BinanceErrorKind.MarketOrderPercentPrice, ErrorHandling.Definite],
    [-1111]: [BinanceErrorKind.BadPrecision, ErrorHandling.Definite],
    [-4014]: [BinanceErrorKind.PriceNotTick, ErrorHandling.Definite],
    [-4023]: [BinanceErrorKind.QtyNotStep, ErrorHandling.Definite],
    [-1125]: [BinanceErrorKind.InvalidListenKey, ErrorHandling.Definite],
  };
  const bodies = HAVE_SHARED_FIXTURES ? fixtureLines('binance-usdm/errors.jsonl') : [];

  it('every recorded error body (REST and WS API envelopes) maps to its documented kind', () => {
    expect(bodies.length).toBeGreaterThanOrEqual(20);
    let n = 0;
    for (const line of bodies) {
      const j = JSON.parse(line) as { code?: number; msg?: string; status?: number; error?: { code: number; msg: string } };
      const e = j.error ?? { code: j.code!, msg: j.msg! };
      const status = j.status ?? statusFor(e.code);
      const want = expected[e.code];
      expect(want, `no expectation for ${line}`).toBeDefined();
      const kind = classifyBinanceError(status, e.code, e.msg);
      expect(errorKindName(kind), line).toBe(errorKindName(want![0]));
      expect(handlingOf(kind), line).toBe(want![1]);
      n++;
    }
    expect(n).toBe(bodies.length);
  });
});

describe('Binance error classification: HTTP statuses (§1.6)', () => {
  it('2xx without a negative code is Ok, including allOpenOrders {"code":200}', () => {
    expect(classifyBinanceError(200, 0, '')).toBe(BinanceErrorKind.Ok);
    expect(classifyBinanceError(200, 200, 'The operation of cancel all open order is done.')).toBe(BinanceErrorKind.Ok);
    expect(handlingOf(BinanceErrorKind.Ok)).toBe(ErrorHandling.None);
    expect(rejectReasonOf(BinanceErrorKind.Ok)).toBe(RejectReason.None);
    // batch endpoints return 200 with per-item {code,msg}: still an error
    expect(classifyBinanceError(200, -2022, 'ReduceOnly Order is rejected.')).toBe(BinanceErrorKind.ReduceOnlyRejected);
  });

  it('503 has three meanings told apart by the message', () => {
    const unknown = classifyBinanceError(503, 0, 'Unknown error, please check your request or try again later.');
    expect(unknown).toBe(BinanceErrorKind.ExecutionUnknown);
    expect(handlingOf(unknown)).toBe(ErrorHandling.Unknown);
    const unavailable = classifyBinanceError(503, 0, 'Service Unavailable.');
    expect(unavailable).toBe(BinanceErrorKind.ServiceUnavailable);
    expect(handlingOf(unavailable)).toBe(ErrorHandling.Backoff);
    const throttled = classifyBinanceError(503, -1008, 'Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.');
    expect(throttled).toBe(BinanceErrorKind.Throttled);
    expect(handlingOf(throttled)).toBe(ErrorHandling.Backoff);
    // the unknown-status message wins even when a code is attached
    expect(classifyBinanceError(503, -1000, 'Unknown error, please check your request or try again later.')).toBe(BinanceErrorKind.ExecutionUnknown);
    // an unrecognised 503 is treated as unknown execution, never as a definite failure
    expect(handlingOf(classifyBinanceError(503, 0, 'something else'))).toBe(ErrorHandling.Unknown);
  });

  it('403 WAF, 408 backend timeout, 418 ban, 429 limits, other 5xx', () => {
    expect(classifyBinanceError(403, 0, '')).toBe(BinanceErrorKind.WafBlocked);
    expect(handlingOf(BinanceErrorKind.WafBlocked)).toBe(ErrorHandling.Halt);
    expect(classifyBinanceError(408, 0, '')).toBe(BinanceErrorKind.RequestTimeoutHttp);
    expect(handlingOf(BinanceErrorKind.RequestTimeoutHttp)).toBe(ErrorHandling.Unknown);
    expect(classifyBinanceError(418, -1003, 'Way too many requests; IP banned until 1659146400000.')).toBe(BinanceErrorKind.IpBanned);
    expect(classifyBinanceError(418, 0, '')).toBe(BinanceErrorKind.IpBanned);
    expect(handlingOf(BinanceErrorKind.IpBanned)).toBe(ErrorHandling.Halt);
    expect(rejectReasonOf(BinanceErrorKind.IpBanned)).toBe(RejectReason.Halted);
    expect(classifyBinanceError(429, -1003, '')).toBe(BinanceErrorKind.TooManyRequests);
    expect(classifyBinanceError(429, -1015, '')).toBe(BinanceErrorKind.TooManyOrders);
    expect(classifyBinanceError(429, 0, '')).toBe(BinanceErrorKind.RateLimited);
    for (const s of [429]) expect(handlingOf(classifyBinanceError(s, 0, ''))).toBe(ErrorHandling.Backoff);
    for (const s of [500, 502, 504]) {
      expect(classifyBinanceError(s, 0, '<html>')).toBe(BinanceErrorKind.ServerError);
      expect(handlingOf(classifyBinanceError(s, 0, ''))).toBe(ErrorHandling.Unknown);
    }
    // an unlisted code: definite on 4xx, unknown on 5xx
    expect(handlingOf(classifyBinanceError(400, -9999, ''))).toBe(ErrorHandling.Definite);
    expect(handlingOf(classifyBinanceError(500, -9999, ''))).toBe(ErrorHandling.Unknown);
    // unknown path: nothing reached the matching engine
    expect(handlingOf(classifyBinanceError(404, -1000, 'Unknown path or method.'))).toBe(ErrorHandling.Definite);
  });

  it('no answer: not written -> definite, written -> unknown (timeout or dropped)', () => {
    expect(handlingOf(classifyNoResponse(false, false))).toBe(ErrorHandling.Definite);
    expect(classifyNoResponse(true, true)).toBe(BinanceErrorKind.RequestTimeout);
    expect(handlingOf(classifyNoResponse(true, true))).toBe(ErrorHandling.Unknown);
    expect(rejectReasonOf(classifyNoResponse(true, true))).toBe(RejectReason.Timeout);
    expect(handlingOf(classifyNoResponse(true, false))).toBe(ErrorHandling.Unknown);
    expect(rejectReasonOf(classifyNoResponse(true, false))).toBe(RejectReason.Transport);
  });

  it('reads the ban end from a -1003 message', () => {
    expect(parseBanUntil('Way too many requests; IP(1.2.3.4) banned until 1659146400000. Please use the websocket for live updates to avoid bans.')).toBe(1659146400000);
    expect(parseBanUntil('Too many requests; current limit is 2400 request weight per 1 MINUTE.')).toBe(0);
    expect(parseBanUntil('banned until soon')).toBe(0);
  });

  it('classifying a success allocates nothing (steady heap over a million calls)', () => {
    const run = (n: number): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += classifyBinanceError(200, 0, '');
      return s;
    };
    run(100_000); // warm up (JIT)
    let sum = 0;
    const growth = steadyHeapGrowth(() => (sum += run(1_000_000)));
    expect(sum).toBe(0);
    // 1M allocations of even 16 bytes would be 16 MB; allow noise from the test runner itself
    expect(growth).toBeLessThan(4 * 1024 * 1024);
  });
});
