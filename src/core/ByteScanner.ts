/**
 * Reading JSON text straight from bytes, for the venue feed decoders (no `JSON.parse`, no strings).
 *
 * A `ByteScanner` is created once per decoder and pointed at each frame with `reset(buf, end)`. Its methods
 * take the index of a value's first byte and return the index just after it, or -1 if the bytes there are
 * not such a value (truncated, wrong type, bad number); results go to fields (`num`, `strStart`, ...). The
 * position stays in the caller's local variable, which keeps the hot loops in registers. Every read checks
 * the index against `end`, so a frame may sit inside a larger buffer and a truncated frame simply fails.
 *
 * Nothing here allocates except the counted slow path of number parsing (`slowPathNumbers`).
 */

/** 10^0 .. 10^22: each is exactly representable as a float64. */
export const POW10 = new Float64Array([
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
  1e20, 1e21, 1e22,
]);
export const TWO_53 = 9007199254740992;
const EMPTY = new Uint8Array(0);

/** ASCII codes used by the scanners. */
export const enum Ch {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Plus = 43,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Slash = 47,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  At = 64,
  LBracket = 91,
  Backslash = 92,
  RBracket = 93,
  LowerE = 101,
  LowerF = 102,
  LowerN = 110,
  LowerT = 116,
  LBrace = 123,
  RBrace = 125,
}

/** Nesting limit of `skipValue`: deeper values count as malformed rather than risking the stack. */
export const MAX_JSON_DEPTH = 256;

export class ByteScanner {
  buf: Uint8Array = EMPTY;
  end = 0;
  /** Result of the last successful `decimal` / `int` / `bool`. */
  num = 0;
  /** Bounds [strStart, strEnd) of the last string read by `string` or digits read by `intSpan`. */
  strStart = 0;
  strEnd = 0;
  /** Whether that string held a backslash escape (its raw bytes then differ from its value). */
  strEscaped = false;
  /** Numbers that needed the exact slow path (more than 2^53 as digits, more than 22 decimals, exponent). */
  slowPathNumbers = 0;

  /** Point the scanner at a frame that ends at `end` (exclusive). */
  reset(buf: Uint8Array, end: number): void {
    this.buf = buf;
    this.end = end;
  }

  /** Index of the first non-whitespace byte at or after `i` (`end` if none). */
  ws(i: number): number {
    const buf = this.buf;
    const end = this.end;
    while (i < end) {
      const c = buf[i]!;
      if (c !== Ch.Space && c !== Ch.Lf && c !== Ch.Cr && c !== Ch.Tab) return i;
      i++;
    }
    return i;
  }

  /** The byte at `i`, or -1 past the end. */
  at(i: number): number {
    return i < this.end ? this.buf[i]! : -1;
  }

  /**
   * A JSON string at `i` (the opening quote): validates escapes, refuses raw control bytes. Sets
   * strStart/strEnd (the bytes between the quotes) and strEscaped.
   */
  string(i: number): number {
    const buf = this.buf;
    const end = this.end;
    if (i >= end || buf[i] !== Ch.Quote) return -1;
    const s = ++i;
    let escaped = false;
    while (i < end) {
      const c = buf[i]!;
      if (c === Ch.Quote) {
        this.strStart = s;
        this.strEnd = i;
        this.strEscaped = escaped;
        return i + 1;
      }
      if (c === Ch.Backslash) {
        escaped = true;
        if (i + 1 >= end) return -1;
        const e = buf[i + 1]!;
        if (e === 117 /* u */) {
          if (i + 6 > end) return -1;
          for (let k = i + 2; k < i + 6; k++) if (!isHex(buf[k]!)) return -1;
          i += 6;
          continue;
        }
        // \" \\ \/ \b \f \n \r \t
        if (e !== Ch.Quote && e !== Ch.Backslash && e !== Ch.Slash && e !== 98 && e !== 102 && e !== 110 && e !== 114 && e !== 116) {
          return -1;
        }
        i += 2;
        continue;
      }
      if (c < 0x20) return -1;
      i++;
    }
    return -1;
  }

  /**
   * From `i` (just after an opening quote): the index of the closing quote if every byte before it is a
   * plain character (above '"' and not a backslash: no escapes, controls, space or '!'), else -1. A quick
   * way over names and symbols; anything else goes through `string`.
   */
  plainStringEnd(i: number): number {
    const buf = this.buf;
    const end = this.end;
    let c = 0;
    let c2 = 0;
    // two bytes per step
    while (i + 1 < end && (c = buf[i]!) > Ch.Quote && c !== Ch.Backslash && (c2 = buf[i + 1]!) > Ch.Quote && c2 !== Ch.Backslash) {
      i += 2;
    }
    if (i >= end) return -1;
    c = buf[i]!;
    if (c === Ch.Quote) return i;
    if (c <= Ch.Quote || c === Ch.Backslash) return -1;
    i++;
    return i < end && buf[i] === Ch.Quote ? i : -1;
  }

  /** Skips one JSON value of any type at `i` (leading whitespace allowed), validating its structure. */
  skipValue(i: number, depth: number): number {
    i = this.ws(i);
    const c = this.at(i);
    switch (c) {
      case Ch.Quote:
        return this.string(i);
      case Ch.LBrace:
        return this.skipObject(i, depth + 1);
      case Ch.LBracket:
        return this.skipArray(i, depth + 1);
      case Ch.LowerT:
        return this.literal(i, TRUE);
      case Ch.LowerF:
        return this.literal(i, FALSE);
      case Ch.LowerN:
        return this.literal(i, NULL);
      default:
        if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) return this.skipNumber(i);
        return -1;
    }
  }

  private skipObject(i: number, depth: number): number {
    if (depth > MAX_JSON_DEPTH) return -1;
    i = this.ws(i + 1);
    if (this.at(i) === Ch.RBrace) return i + 1;
    for (;;) {
      i = this.string(i);
      if (i < 0) return -1;
      i = this.ws(i);
      if (this.at(i) !== Ch.Colon) return -1;
      i = this.skipValue(i + 1, depth);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = this.at(i);
      if (c === Ch.RBrace) return i + 1;
      if (c !== Ch.Comma) return -1;
      i = this.ws(i + 1);
    }
  }

  private skipArray(i: number, depth: number): number {
    if (depth > MAX_JSON_DEPTH) return -1;
    i = this.ws(i + 1);
    if (this.at(i) === Ch.RBracket) return i + 1;
    for (;;) {
      i = this.skipValue(i, depth);
      if (i < 0) return -1;
      i = this.ws(i);
      const c = this.at(i);
      if (c === Ch.RBracket) return i + 1;
      if (c !== Ch.Comma) return -1;
      i++;
    }
  }

  private literal(i: number, lit: Uint8Array): number {
    const n = lit.length;
    if (i + n > this.end || !bytesEqual(this.buf, i, i + n, lit)) return -1;
    return i + n;
  }

  /** JSON number grammar: -?digits(.digits)?([eE][+-]?digits)? */
  private skipNumber(i: number): number {
    const buf = this.buf;
    const end = this.end;
    if (i < end && buf[i] === Ch.Minus) i++;
    const d0 = i;
    while (i < end && isDigit(buf[i]!)) i++;
    if (i === d0) return -1;
    if (i < end && buf[i] === Ch.Dot) {
      const f0 = ++i;
      while (i < end && isDigit(buf[i]!)) i++;
      if (i === f0) return -1;
    }
    if (i < end && (buf[i]! | 0x20) === Ch.LowerE) {
      i++;
      if (i < end && (buf[i] === Ch.Plus || buf[i] === Ch.Minus)) i++;
      const e0 = i;
      while (i < end && isDigit(buf[i]!)) i++;
      if (i === e0) return -1;
    }
    return i;
  }

  /**
   * A decimal at `i`: a JSON string holding a decimal (`"7.6110"`, as venues send prices) or a bare JSON
   * number. `num` then equals `parseFloat` of the same text exactly: when the digits read as one integer m
   * below 2^53 and there are at most 22 decimals, m / 10^k is a single correctly rounded division of two
   * exact float64s; otherwise (more digits, an exponent) the text goes to `parseFloat` (counted in
   * `slowPathNumbers`; allocates one short string).
   */
  decimal(i: number): number {
    const buf = this.buf;
    const end = this.end;
    if (i >= end) return -1;
    const quoted = buf[i] === Ch.Quote;
    if (quoted) i++;
    const s = i;
    let neg = false;
    if (i < end && buf[i] === Ch.Minus) {
      neg = true;
      i++;
    }
    const d0 = i;
    let m = 0;
    let d = 0;
    while (i < end && (d = (buf[i]! - Ch.Zero) >>> 0) <= 9) {
      m = m * 10 + d;
      i++;
    }
    const intDigits = i - d0;
    let k = 0;
    let hasDot = false;
    if (i < end && buf[i] === Ch.Dot) {
      hasDot = true;
      const f0 = ++i;
      while (i < end && (d = (buf[i]! - Ch.Zero) >>> 0) <= 9) {
        m = m * 10 + d;
        i++;
      }
      k = i - f0;
    }
    // parseFloat takes "5." and ".5"; a bare JSON number needs digits on both sides of the dot.
    if (quoted ? intDigits + k === 0 : intDigits === 0 || (hasDot && k === 0)) return -1;
    // m < 2^53 means every partial sum was exact (a rounded sum would have stayed >= 2^53).
    let slow = m >= TWO_53 || k > 22;
    if (i < end && (buf[i]! | 0x20) === Ch.LowerE) {
      i++;
      if (i < end && (buf[i] === Ch.Plus || buf[i] === Ch.Minus)) i++;
      const e0 = i;
      while (i < end && isDigit(buf[i]!)) i++;
      if (i === e0) return -1;
      slow = true;
    }
    const stop = i;
    if (quoted) {
      if (i >= end || buf[i] !== Ch.Quote) return -1;
      i++;
    }
    if (slow) {
      this.num = this.slowDecimal(s, stop);
    } else {
      const v = m / POW10[k]!;
      this.num = neg ? -v : v;
    }
    return i;
  }

  private slowDecimal(start: number, stop: number): number {
    this.slowPathNumbers++;
    let text = '';
    for (let j = start; j < stop; j++) text += String.fromCharCode(this.buf[j]!);
    return parseFloat(text);
  }

  /**
   * An integer at `i`, bare (`1626992741017`) or quoted (`"1626992741017"`), optionally negative, into
   * `num`. Refuses a fraction, an exponent and magnitudes of 2^53 or more.
   */
  int(i: number): number {
    const buf = this.buf;
    const end = this.end;
    if (i >= end) return -1;
    const quoted = buf[i] === Ch.Quote;
    if (quoted) i++;
    let neg = false;
    if (i < end && buf[i] === Ch.Minus) {
      neg = true;
      i++;
    }
    const d0 = i;
    let m = 0;
    let d = 0;
    while (i < end && (d = (buf[i]! - Ch.Zero) >>> 0) <= 9) {
      m = m * 10 + d;
      i++;
    }
    if (i === d0 || m >= TWO_53) return -1;
    if (quoted) {
      if (i >= end || buf[i] !== Ch.Quote) return -1;
      i++;
    } else if (i < end) {
      const c = buf[i]!;
      if (c === Ch.Dot || (c | 0x20) === Ch.LowerE) return -1;
    }
    this.num = neg ? -m : m;
    return i;
  }

  /**
   * The digits of an integer of any size, bare or quoted, without converting them: strStart/strEnd span
   * the digits (and a leading minus). For ids that may exceed 2^53 (keep them as text or BigInt).
   */
  intSpan(i: number): number {
    const buf = this.buf;
    const end = this.end;
    if (i >= end) return -1;
    const quoted = buf[i] === Ch.Quote;
    if (quoted) i++;
    const s = i;
    if (i < end && buf[i] === Ch.Minus) i++;
    const d0 = i;
    while (i < end && isDigit(buf[i]!)) i++;
    if (i === d0) return -1;
    const stop = i;
    if (quoted) {
      if (i >= end || buf[i] !== Ch.Quote) return -1;
      i++;
    } else if (i < end) {
      const c = buf[i]!;
      if (c === Ch.Dot || (c | 0x20) === Ch.LowerE) return -1;
    }
    this.strStart = s;
    this.strEnd = stop;
    this.strEscaped = false;
    return i;
  }

  /** `true` / `false` at `i`: `num` = 1 / 0. */
  bool(i: number): number {
    const c = this.at(i);
    if (c === Ch.LowerT) {
      this.num = 1;
      return this.literal(i, TRUE);
    }
    if (c === Ch.LowerF) {
      this.num = 0;
      return this.literal(i, FALSE);
    }
    return -1;
  }

  /**
   * Writes the value of the string content buf[start..end) (as delimited by `string`, so its escapes are
   * valid) into `dst`. A `\u` escape above U+007F is refused: such a string never equals the ASCII keys,
   * event names and symbols decoders compare with. Returns the length written, or -1 if refused or `dst`
   * is too small.
   */
  unescapeAscii(start: number, end: number, dst: Uint8Array): number {
    const buf = this.buf;
    let n = 0;
    let i = start;
    while (i < end) {
      if (n >= dst.length) return -1;
      let c = buf[i]!;
      if (c !== Ch.Backslash) {
        dst[n++] = c;
        i++;
        continue;
      }
      c = buf[i + 1]!;
      i += 2;
      switch (c) {
        case 98:
          c = 8;
          break;
        case 102:
          c = 12;
          break;
        case 110:
          c = 10;
          break;
        case 114:
          c = 13;
          break;
        case 116:
          c = 9;
          break;
        case 117: {
          let cp = 0;
          for (let k = 0; k < 4; k++) cp = (cp << 4) | hexVal(buf[i + k]!);
          i += 4;
          if (cp > 0x7f) return -1;
          c = cp;
          break;
        }
        default:
          break; // \" \\ \/ stand for themselves
      }
      dst[n++] = c;
    }
    return n;
  }
}

/** ASCII bytes of a string (for module-level constants; allocates, so never per frame). */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
}

/** True if buf[start..end) equals `lit` byte for byte. */
export function bytesEqual(buf: Uint8Array, start: number, end: number, lit: Uint8Array): boolean {
  const n = lit.length;
  if (end - start !== n) return false;
  for (let k = 0; k < n; k++) if (buf[start + k] !== lit[k]) return false;
  return true;
}

/** Index of the first occurrence of `lit` in buf[start..end), or -1. */
export function indexOfBytes(buf: Uint8Array, start: number, end: number, lit: Uint8Array): number {
  const n = lit.length;
  outer: for (let i = start; i + n <= end; i++) {
    for (let k = 0; k < n; k++) if (buf[i + k] !== lit[k]) continue outer;
    return i;
  }
  return -1;
}

const TRUE = ascii('true');
const FALSE = ascii('false');
const NULL = ascii('null');

function isDigit(c: number): boolean {
  return c >= Ch.Zero && c <= Ch.Nine;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function hexVal(c: number): number {
  return c <= 57 ? c - 48 : (c | 0x20) - 87;
}
