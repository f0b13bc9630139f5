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
