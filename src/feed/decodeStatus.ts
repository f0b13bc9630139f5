import { Ch } from '../core/ByteScanner.js';

/**
 * Negative results of a market-data decoder's `decode` (a result >= 1 is the number of records committed),
 * shared by the Binance and Gate dialects so one feed loop reads both alike. Every malformed frame gets
 * exactly one of Malformed, Truncated, MissingField, WrongType, BadNumber, BadValue (each counted apart
 * and all together in `malformed`); nothing of it is committed.
 */
export const enum DecodeStatus {
  /** A valid frame that is not a market event we decode (subscription reply, user data, another channel). */
  Ignored = -1,
  /** Not JSON: garbage bytes, a syntax error, trailing bytes after the value, not an object. */
  Malformed = -2,
  /** A market event for a symbol the registry does not hold (an array frame: none of its symbols). */
  UnknownSymbol = -3,
  /** The ring had no free slot: nothing was written, the symbols' next records carry GapBefore. */
  RingFull = -4,
  /** The frame ends inside a string, object or array (bytes missing at its end). */
  Truncated = -5,
  /** A field the event cannot do without is absent (symbol, price, qty, update ids, ...). */
  MissingField = -6,
  /** A field holds another JSON type than it should (`"m":"true"`, `"p":null`, `"b":{}`). */
  WrongType = -7,
  /** A number (or numeric string) that does not read as one: `"1.2.3"`, `""`, an id of 2^53 or more. */
  BadNumber = -8,
  /** A string outside its set of values (a liquidation side other than BUY / SELL, a bad candle name). */
  BadValue = -9,
  /** Gate only: a control reply (subscribe / unsubscribe ack or error, futures.pong); counted, nothing written. */
  Control = -10,
}

/** True for the statuses that mean the frame itself is malformed (as opposed to ignored / unknown / full). */
export function isMalformedStatus(s: number): boolean {
  return s === DecodeStatus.Malformed || (s <= DecodeStatus.Truncated && s >= DecodeStatus.BadValue);
}

/** The per-reason counters of a decoder's malformed frames (public fields of both market decoders). */
export interface MalformedCounters {
  malformed: number;
  syntaxErrors: number;
  truncated: number;
  missingField: number;
  wrongType: number;
  badNumber: number;
  badValue: number;
}

/** Counts a malformed frame under its reason (anything else counts as a syntax error); returns the status. */
export function countMalformed(c: MalformedCounters, st: number): number {
  c.malformed++;
  switch (st) {
    case DecodeStatus.Truncated:
      c.truncated++;
      return st;
    case DecodeStatus.MissingField:
      c.missingField++;
      return st;
    case DecodeStatus.WrongType:
      c.wrongType++;
      return st;
    case DecodeStatus.BadNumber:
      c.badNumber++;
      return st;
    case DecodeStatus.BadValue:
      c.badValue++;
      return st;
    default:
      c.syntaxErrors++;
      return DecodeStatus.Malformed;
  }
}

/**
 * Why bytes that are not valid JSON are not: Truncated if they end inside a string or with an object / array
 * still open (what a frame cut short looks like), else Malformed. Cold path: one pass over the bytes.
 */
export function unparsedStatus(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  // JSON whitespace only: a frame starting with another control byte is not JSON at all
  while (i < end && (buf[i] === Ch.Space || buf[i] === Ch.Lf || buf[i] === Ch.Cr || buf[i] === Ch.Tab)) i++;
  const c0 = i < end ? buf[i]! : 0;
  if (c0 !== Ch.LBrace && c0 !== Ch.LBracket) return DecodeStatus.Malformed;
  let depth = 0;
  let inStr = false;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (inStr) {
      if (c === Ch.Backslash) i++;
      else if (c === Ch.Quote) inStr = false;
    } else if (c === Ch.Quote) {
      inStr = true;
    } else if (c === Ch.LBrace || c === Ch.LBracket) {
      depth++;
    } else if (c === Ch.RBrace || c === Ch.RBracket) {
      if (--depth < 0) break;
    }
  }
  return inStr || depth > 0 ? DecodeStatus.Truncated : DecodeStatus.Malformed;
}
