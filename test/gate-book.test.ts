import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { L2BookSink } from '../src/book/BookSync.js';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { BookState, MARKET_SLOT_BYTES } from '../src/ring/layout.js';
import { GateBookSync, parseGateOrderBook } from '../src/venues/gate/book.js';
import { GateMarketDecoder } from '../src/venues/gate/MarketDecoder.js';
import { detectRecordingVenue, gateRecordingContracts } from '../src/venues/gate/recording.js';
import { verifyBookFile } from '../src/cli/verifyBook.js';
import { HAVE_SHARED_FIXTURES, NO_FIXTURES_MESSAGE, PROJECT_ROOT, fixturePath } from './helpers/fixtures.js';

const OWN = join(PROJECT_ROOT, 'test/fixtures/gate/small-recording.jsonl');
const GATE_RECORDING = 'recordings/gateio-futures/2023-05-24_10-contracts.jsonl';
const tmp = mkdtempSync(join(tmpdir(), 'hft-gate-book-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const obu = (U: number, u: number, b: string, a: string, full = false): string =>
  `{"time":1,"channel":"futures.order_book_update","event":"update","result":{${full ? '"full":true,' : ''}"s":"BTC_USDT","U":${U},"u":${u},"b":${b},"a":${a}}}`;

function rig(): { feed: (text: string, ts?: number) => void; sync: GateBookSync; sink: L2BookSink; requests: number[] } {
  const dec = new GateMarketDecoder(new SymbolRegistry(['BTC_USDT']), () => 0);
  const w = new ArraySlotWriter(MARKET_SLOT_BYTES, 64);
  const sink = new L2BookSink(1);
  const requests: number[] = [];
  const sync = new GateBookSync(1, sink, { requestSnapshot: (sym) => requests.push(sym) });
  const feed = (text: string, ts = 0): void => {
    w.reset();
    const b = Buffer.from(text);
    const n = dec.decode(b, 0, b.length, ts, w);
    for (let r = 0; r < n; r++) sync.onRecord(w.f64, w.i32, w.base(r));
  };
  return { feed, sync, sink, requests };
}

const snapshot = (id: number): ReturnType<typeof parseGateOrderBook> =>
  parseGateOrderBook(`{"id":${id},"current":1.5,"update":1.4,"asks":[{"s":1,"p":"100.5"},{"s":4,"p":"100.6"}],"bids":[{"s":2,"p":"100.0"},{"s":5,"p":"99.9"}]}`);

describe('GateBookSync (protocols.md §2.5 on BookSync)', () => {
  it('drops u < id + 1, applies the push holding id + 1, then requires U == previous u + 1', () => {
    const { feed, sync, sink } = rig();
    feed(obu(90, 100, '[{"p":"100.0","s":1}]', '[]')); // u = id: already in the snapshot
    feed(obu(101, 105, '[{"p":"100.0","s":3}]', '[{"p":"100.5","s":0}]')); // U <= id + 1 <= u
    const snap = snapshot(100);
    expect(sync.onSnapshot(0, snap.id, snap.bids, snap.asks)).toBe(true);
    expect(sync.state(0)).toBe(BookState.Live);
    expect(sync.stats(0)).toMatchObject({ applied: 1, droppedStale: 1, gaps: 0 });
    const book = sink.books[0]!;
    expect([book.bestBid, book.bestBidQty, book.bestAsk, book.bestAskQty]).toEqual([100, 3, 100.6, 4]);
    feed(obu(106, 106, '[]', '[]')); // an empty push still advances the id
    feed(obu(107, 109, '[{"p":"100.1","s":7}]', '[]'));
    expect(sync.lastUpdateId(0)).toBe(109);
    expect([book.bestBid, book.bestBidQty]).toEqual([100.1, 7]);
  });

  it('a lost push (U > previous u + 1) is a gap: Syncing, a snapshot requested, later pushes buffered', () => {
    const { feed, sync, requests } = rig();
    const snap = snapshot(100);
    sync.onSnapshot(0, snap.id, snap.bids, snap.asks);
    feed(obu(100, 102, '[]', '[]'));
    expect(sync.state(0)).toBe(BookState.Live);
    feed(obu(104, 105, '[]', '[]'));
    expect(sync.state(0)).toBe(BookState.Syncing);
    expect(sync.stats(0)).toMatchObject({ gaps: 1, resyncs: 1, applied: 1 });
    expect(requests).toEqual([0]);
    expect(sync.bufferedRecords(0)).toBe(1);
    // a snapshot older than the stream: the first buffered push has U > id + 1, so it resyncs again
    sync.onSnapshot(0, 102, snap.bids, snap.asks);
    expect(sync.stats(0).gaps).toBe(2);
    const fresh = snapshot(104);
    expect(sync.onSnapshot(0, fresh.id, fresh.bids, fresh.asks)).toBe(true);
    feed(obu(106, 107, '[]', '[]'));
    expect(sync.state(0)).toBe(BookState.Live);
    expect(sync.lastUpdateId(0)).toBe(107);
  });

  it('a full:true push replaces the book without a REST request', () => {
    const { feed, sync, sink, requests } = rig();
    const snap = snapshot(100);
    sync.onSnapshot(0, snap.id, snap.bids, snap.asks);
    feed(obu(101, 101, '[]', '[]'));
    feed(obu(150, 160, '[{"p":"90","s":1},{"p":"89","s":2},{"p":"88","s":3}]', '[{"p":"91","s":4},{"p":"92","s":5}]', true));
    expect(sync.fullUpdates).toBe(1);
    expect(requests).toEqual([]);
    const book = sink.books[0]!;
    expect([book.bidLevels, book.askLevels, book.bestBid, book.bestAsk]).toEqual([3, 2, 90, 91]);
    feed(obu(161, 162, '[{"p":"90","s":9}]', '[]'));
    expect(sync.state(0)).toBe(BookState.Live);
    expect(book.bestBidQty).toBe(9);
  });
});

describe('verify-book on Gate recordings', () => {
  it('detects the venue and the contracts of a recording', () => {
    expect(detectRecordingVenue(OWN)).toBe('gate');
    expect(gateRecordingContracts(OWN)).toEqual(['BTC_USDT']);
  });

  it('our small recording: buffered until the snapshot, 2 checks against book_ticker, no gap', () => {
    const { result, details } = verifyBookFile(OWN);
    expect(result).toEqual({ symbols: { BTC_USDT: { applied: 3, gaps: 0, resyncs: 0, checks: 2, mismatches: 0 } } });
    expect(details.droppedStale).toEqual({ BTC_USDT: 1 });
    expect(details.decodeErrors).toBe(0);
  });

  it('a book_ticker that disagrees with the book is a mismatch', () => {
    const file = join(tmp, 'mismatch.jsonl');
    writeFileSync(file, readFileSync(OWN, 'utf8').replace('"b":"100.1","B":"7"', '"b":"100.1","B":"8"'));
    expect(verifyBookFile(file).result.symbols['BTC_USDT']).toEqual({ applied: 3, gaps: 0, resyncs: 0, checks: 2, mismatches: 1 });
  });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/hft.js'), ...args], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!HAVE_SHARED_FIXTURES)('hft verify-book on the shared Gate recording', () => {
  it('10 contracts, 0 gaps, 0 mismatches, 16 checks; exit 0 (with and without --venue gate)', async () => {
    expect(existsSync(join(PROJECT_ROOT, 'dist/src/cli/verifyBook.js')), 'build first: npx tsc -p .').toBe(true);
    for (const args of [['verify-book', fixturePath(GATE_RECORDING)], ['verify-book', '--venue', 'gate', fixturePath(GATE_RECORDING)]]) {
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { symbols: Record<string, { applied: number; gaps: number; resyncs: number; checks: number; mismatches: number }> };
      const syms = out.symbols;
      expect(Object.keys(syms)).toEqual(['DIA_USDT', 'FRONT_USDT', 'LIT_USDT', 'OMG_USDT', 'PHB_USDT', 'QUICK_USDT', 'RDNT_USDT', 'SFP_USDT', 'WOO_USDT', 'ZRX_USDT']);
      for (const [name, s] of Object.entries(syms)) {
        expect(Object.keys(s)).toEqual(['applied', 'gaps', 'resyncs', 'checks', 'mismatches']);
        expect([s.gaps, s.resyncs, s.mismatches], name).toEqual([0, 0, 0]);
      }
      expect(Object.values(syms).reduce((n, s) => n + s.checks, 0)).toBe(16);
      expect(syms['OMG_USDT']!.applied).toBe(101); // 109 pushes, lines 1-8 predate the snapshot
      expect(syms['DIA_USDT']!.applied).toBe(0);
    }
  });

  it('a deleted push shows as a gap and fails', () => {
    const lines = readFileSync(fixturePath(GATE_RECORDING), 'utf8').split('\n');
    const omg = lines.map((l, i) => (l.includes('futures.order_book_update') && l.includes('"s":"OMG_USDT"') && l.includes('"event":"update"') ? i : -1)).filter((i) => i >= 0);
    lines.splice(omg[50]!, 1);
    const file = join(tmp, 'gap.jsonl');
    writeFileSync(file, lines.join('\n'));
    const { result } = verifyBookFile(file, 'gate');
    expect(result.symbols['OMG_USDT']!.gaps).toBe(1);
    expect(result.symbols['OMG_USDT']!.mismatches).toBe(0);
    expect(result.symbols['PHB_USDT']!.gaps).toBe(0);
  });
});

if (!HAVE_SHARED_FIXTURES) {
  describe('verify-book on the shared Gate recording', () => {
    it.skip(NO_FIXTURES_MESSAGE, () => {});
  });
}
