import { closeSync, openSync, readSync } from 'node:fs';
import { ByteScanner, Ch, ascii, bytesEqual } from '../../core/ByteScanner.js';

/**
 * Reader of the shared recordings format (fixtures/MANIFEST.md, "recordings"): one JSON object per line,
 * `{"ts": <receive time, unix seconds>, "src": "connect"|"ws"|"ws_out"|"rest", "url": "...", "msg": <payload>}`,
 * where `msg` is the venue payload byte-exact. The reader never parses `msg`: it finds the byte range of its
 * value inside the line, so a ws frame can go to the decoder exactly as the venue sent it.
 */

export const enum RecordingSource {
  Other = 0,
  Connect = 1,
  Ws = 2,
  WsOut = 3,
  Rest = 4,
}

/** One line of a recording. The reader reuses this object and its buffer: valid until the next `next()`. */
export interface RecordingLine {
  /** 1-based line number in the file */
  lineNo: number;
  /** recorder receive time, unix seconds (NaN if the line has none) */
  ts: number;
  src: RecordingSource;
  url: string;
  /** bytes holding the line; the payload is buf[msgStart, msgEnd) */
  buf: Uint8Array;
  /** Range of `msg`'s JSON value (object, array...); empty (msgStart === msgEnd) when msg is null or absent. */
  msgStart: number;
  msgEnd: number;
  /** msg is a JSON string: the range is its raw content between the quotes (escapes not undone) */
  msgIsString: boolean;
}

const LIT_TS = ascii('ts');
const LIT_SRC = ascii('src');
const LIT_URL = ascii('url');
const LIT_MSG = ascii('msg');
const SRC_NAMES: Array<[Uint8Array, RecordingSource]> = [
  [ascii('ws'), RecordingSource.Ws],
  [ascii('rest'), RecordingSource.Rest],
  [ascii('connect'), RecordingSource.Connect],
  [ascii('ws_out'), RecordingSource.WsOut],
];

/**
 * Streams a recording file (or bytes already in memory) line by line. Lines that are not a JSON object of
 * this shape (e.g. a last line cut short by a crashed recorder) are skipped and counted in `malformedLines`.
 */
export class RecordingReader implements Iterable<RecordingLine> {
  malformedLines = 0;
  /** lines read, blank ones included */
  lines = 0;

  private fd: number;
  private buf: Uint8Array;
  /** unread bytes are buf[pos, len) */
  private pos = 0;
  private len = 0;
  private eof = false;
  private readonly sc = new ByteScanner();
  private readonly line: RecordingLine;
  /** the last url, as bytes and as a string: most lines of a recording share one url */
  private urlBytes = new Uint8Array(0);
  private urlText = '';

  private constructor(fd: number, buf: Uint8Array, len: number) {
    this.fd = fd;
    this.buf = buf;
    this.len = len;
    this.eof = fd < 0;
    this.line = { lineNo: 0, ts: NaN, src: RecordingSource.Other, url: '', buf, msgStart: 0, msgEnd: 0, msgIsString: false };
  }

  static open(path: string, chunkBytes = 1 << 20): RecordingReader {
    const fd = openSync(path, 'r');
    return new RecordingReader(fd, new Uint8Array(Math.max(64, chunkBytes)), 0);
  }

  static fromBytes(bytes: Uint8Array): RecordingReader {
    return new RecordingReader(-1, bytes, bytes.length);
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
    this.eof = true;
  }

  [Symbol.iterator](): Iterator<RecordingLine> {
    return {
      next: (): IteratorResult<RecordingLine> => {
        const l = this.next();
        if (l === null) return { done: true, value: undefined };
        return { done: false, value: l };
      },
      return: (): IteratorResult<RecordingLine> => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }

  /** The next well-formed line, or null at the end (the file is then closed). */
  next(): RecordingLine | null {
    for (;;) {
      let nl = this.indexOfNewline(this.pos);
      while (nl < 0 && !this.eof) {
        this.fill();
        nl = this.indexOfNewline(this.pos);
      }
      let end: number;
      if (nl >= 0) end = nl;
      else if (this.pos < this.len) end = this.len; // last line without a newline
      else {
        this.close();
        return null;
      }
      const start = this.pos;
      this.pos = nl >= 0 ? nl + 1 : this.len;
      this.lines++;
      let e = end;
      if (e > start && this.buf[e - 1] === Ch.Cr) e--;
      this.sc.reset(this.buf, e);
      if (this.sc.ws(start) === e) continue; // blank line
      if (this.parseLine(start, e)) return this.line;
      this.malformedLines++;
    }
  }

  private indexOfNewline(from: number): number {
    const buf = this.buf;
    const len = this.len;
    for (let i = from; i < len; i++) if (buf[i] === Ch.Lf) return i;
    return -1;
  }

  /** Moves the unread bytes to the front (growing the buffer for a long line) and reads more. */
  private fill(): void {
    const rest = this.len - this.pos;
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.len);
    } else if (rest === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
      this.line.buf = grown;
    }
    this.pos = 0;
    this.len = rest;
    const n = readSync(this.fd, this.buf, this.len, this.buf.length - this.len, null);
    if (n === 0) this.eof = true;
    this.len += n;
  }

  private parseLine(start: number, end: number): boolean {
    const sc = this.sc;
    const buf = this.buf;
    sc.reset(buf, end);
    const line = this.line;
    line.lineNo = this.lines;
    line.ts = NaN;
    line.src = RecordingSource.Other;
    line.url = '';
    line.buf = buf;
    line.msgStart = line.msgEnd = start;
    line.msgIsString = false;
    let i = sc.ws(start);
    if (sc.at(i) !== Ch.LBrace) return false;
    i = sc.ws(i + 1);
    if (sc.at(i) === Ch.RBrace) return sc.ws(i + 1) === end;
    for (;;) {
      i = sc.string(i);
      if (i < 0) return false;
      const ks = sc.strStart;
      const ke = sc.strEnd;
      i = sc.ws(i);
      if (sc.at(i) !== Ch.Colon) return false;
      i = sc.ws(i + 1);
      if (bytesEqual(buf, ks, ke, LIT_MSG)) {
        const v0 = i;
        i = sc.skipValue(i, 0);
        if (i < 0) return false;
        const c = buf[v0];
        if (c === Ch.Quote) {
          line.msgStart = v0 + 1;
          line.msgEnd = i - 1;
          line.msgIsString = true;
        } else if (c !== Ch.LowerN) {
          line.msgStart = v0;
          line.msgEnd = i;
        }
      } else if (bytesEqual(buf, ks, ke, LIT_TS)) {
        i = sc.decimal(i);
        if (i < 0) return false;
        line.ts = sc.num;
      } else if (bytesEqual(buf, ks, ke, LIT_SRC)) {
        i = sc.string(i);
        if (i < 0) return false;
        for (let k = 0; k < SRC_NAMES.length; k++) {
          const [name, src] = SRC_NAMES[k]!;
          if (bytesEqual(buf, sc.strStart, sc.strEnd, name)) line.src = src;
        }
      } else if (bytesEqual(buf, ks, ke, LIT_URL)) {
        const v0 = i;
        i = sc.string(i);
        if (i < 0) return false;
        line.url = this.urlString(v0, i);
      } else {
        i = sc.skipValue(i, 0);
        if (i < 0) return false;
      }
      i = sc.ws(i);
      const c = sc.at(i);
      if (c === Ch.RBrace) return sc.ws(i + 1) === end;
      if (c !== Ch.Comma) return false;
      i = sc.ws(i + 1);
    }
  }

  /** The url string of the JSON string at buf[start, end) (quotes included), reusing the last one if equal. */
  private urlString(start: number, end: number): string {
    const sc = this.sc;
    const s = sc.strStart;
    const e = sc.strEnd;
    if (!sc.strEscaped && bytesEqual(this.buf, s, e, this.urlBytes)) return this.urlText;
    const text = Buffer.from(this.buf.buffer, this.buf.byteOffset + start, end - start).toString('utf8');
    this.urlText = sc.strEscaped ? (JSON.parse(text) as string) : text.slice(1, -1);
    this.urlBytes = sc.strEscaped ? new Uint8Array(0) : this.buf.slice(s, e);
    return this.urlText;
  }
}

/** The `symbol=` query parameter of a REST url (upper-cased), or '' if there is none. */
export function restSymbol(url: string): string {
  const m = /[?&]symbol=([^&#]+)/.exec(url);
  return m ? safeDecode(m[1]!).toUpperCase() : '';
}

/**
 * Symbols named by a market-data WebSocket url: the `streams=` list of a combined stream
 * (`/stream?streams=btcusdt@depth@100ms/...`) or the path of a raw one (`/ws/btcusdt@depth`), upper-cased.
 * Streams without a symbol (`!bookTicker`) are left out.
 */
export function wsUrlSymbols(url: string): string[] {
  let list = '';
  const q = /[?&]streams=([^&#]+)/.exec(url);
  if (q) list = safeDecode(q[1]!);
  else {
    const p = /\/ws\/([^?#]+)/.exec(url);
    if (p) list = safeDecode(p[1]!);
  }
  const out: string[] = [];
  for (const stream of list.split('/')) {
    const at = stream.indexOf('@');
    const sym = (at >= 0 ? stream.slice(0, at) : '').toUpperCase();
    if (/^[A-Z0-9_]+$/.test(sym) && !out.includes(sym)) out.push(sym);
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A Binance REST depth snapshot (`GET /fapi/v1/depth`): levels as price, qty pairs, best first. */
export interface DepthSnapshot {
  lastUpdateId: number;
  eventTime: number;
  bids: Float64Array;
  asks: Float64Array;
}

/**
 * Parses a `/fapi/v1/depth` response body. Off the hot path, so JSON.parse; prices go through parseFloat,
 * which gives the same float64 as the feed decoder for the same decimal text. Throws on a body of another shape.
 */
export function parseDepthSnapshot(body: Uint8Array | string): DepthSnapshot {
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const o = JSON.parse(text) as { lastUpdateId?: unknown; E?: unknown; bids?: unknown; asks?: unknown };
  if (typeof o !== 'object' || o === null || typeof o.lastUpdateId !== 'number') {
    throw new Error('depth snapshot: no numeric lastUpdateId');
  }
  return {
    lastUpdateId: o.lastUpdateId,
    eventTime: typeof o.E === 'number' ? o.E : -1,
    bids: levelPairs(o.bids, 'bids'),
    asks: levelPairs(o.asks, 'asks'),
  };
}

function levelPairs(v: unknown, name: string): Float64Array {
  if (!Array.isArray(v)) throw new Error(`depth snapshot: ${name} is not an array`);
  const out = new Float64Array(v.length * 2);
  v.forEach((lvl: unknown, i) => {
    if (!Array.isArray(lvl) || lvl.length < 2) throw new Error(`depth snapshot: ${name}[${i}] is not a [price, qty] pair`);
    const p = parseFloat(String(lvl[0]));
    const q = parseFloat(String(lvl[1]));
    if (!Number.isFinite(p) || !Number.isFinite(q)) throw new Error(`depth snapshot: ${name}[${i}] is not numeric`);
    out[2 * i] = p;
    out[2 * i + 1] = q;
  });
  return out;
}
