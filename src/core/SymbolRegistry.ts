/**
 * Interns venue symbols to small integers at start. The feed decoder looks a symbol up straight from the
 * frame bytes (no string is made): an FNV-1a hash over the bytes picks a bucket of an open-addressed
 * table and the bytes are compared. The registry travels to workers as its plain `names` array.
 */
export class SymbolRegistry {
  readonly names: readonly string[];
  private readonly bytes: Uint8Array[];
  private readonly table: Int32Array;
  private readonly mask: number;

  constructor(names: readonly string[]) {
    if (names.length === 0) throw new Error('SymbolRegistry: at least one symbol is required');
    if (names.length > 0xffff) throw new Error('SymbolRegistry: at most 65535 symbols');
    const seen = new Set<string>();
    for (const n of names) {
      if (!/^[A-Z0-9_]{1,40}$/.test(n)) throw new Error(`SymbolRegistry: bad symbol "${n}" (allowed: A-Z, 0-9, _)`);
      if (seen.has(n)) throw new Error(`SymbolRegistry: duplicate symbol "${n}"`);
      seen.add(n);
    }
    this.names = [...names];
    this.bytes = names.map((n) => new TextEncoder().encode(n));
    let size = 16;
    while (size < names.length * 4) size <<= 1;
    this.table = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (let id = 0; id < names.length; id++) {
      const b = this.bytes[id]!;
      let i = fnv1a(b, 0, b.length, false) & this.mask;
      while (this.table[i] !== -1) i = (i + 1) & this.mask;
      this.table[i] = id;
    }
  }

  get size(): number {
    return this.names.length;
  }

  /** Symbol id for a name, or -1. */
  id(name: string): number {
    const i = this.names.indexOf(name);
    return i;
  }

  name(id: number): string {
    const n = this.names[id];
    if (n === undefined) throw new Error(`SymbolRegistry: unknown symbol id ${id}`);
    return n;
  }

  /**
   * Symbol id for the bytes buf[start..end), or -1. With `upper` true, ASCII lower-case letters in the
   * bytes are compared as upper-case (stream names such as "btcusdt@bookTicker" are lower-case).
   */
  lookup(buf: Uint8Array, start: number, end: number, upper = false): number {
    const len = end - start;
    let i = fnv1a(buf, start, end, upper) & this.mask;
    for (;;) {
      const id = this.table[i]!;
      if (id === -1) return -1;
      const b = this.bytes[id]!;
      if (b.length === len) {
        let k = 0;
        for (; k < len; k++) {
          let c = buf[start + k]!;
          if (upper && c >= 97 && c <= 122) c -= 32;
          if (c !== b[k]) break;
        }
        if (k === len) return id;
      }
      i = (i + 1) & this.mask;
    }
  }
}

function fnv1a(buf: Uint8Array, start: number, end: number, upper: boolean): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    let c = buf[i]!;
    if (upper && c >= 97 && c <= 122) c -= 32;
    h ^= c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
