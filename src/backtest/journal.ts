import { createJournalFeed, JournalFeedWriter } from '../journal/JournalFeed.js';
import { JournalWriter } from '../journal/JournalWriter.js';
import type { Instrument } from '../core/Instrument.js';

/**
 * The run's journal through the engine's own journal (src/journal): every intent and every report the
 * runner got go through a journal feed into a JournalWriter, the same SQLite schema a live session writes
 * (orders, order events, fills, positions), so `hft journal` style queries work on a backtest too.
 * Drained whenever the feed is half full, and at the end.
 */
export class BacktestJournal {
  private readonly ring = createJournalFeed('backtest-journal', 1 << 14);
  private readonly feed = new JournalFeedWriter(this.ring, 0);
  private readonly writer: JournalWriter;
  private pending = 0;

  constructor(dbPath: string, symbols: readonly string[], instruments: readonly Instrument[], config: unknown, startWallMs: number) {
    this.writer = new JournalWriter({
      dbPath,
      feeds: [this.ring],
      session: {
        clientIdPrefix: `bt${Math.floor(startWallMs).toString(36)}`,
        venue: 'backtest',
        symbols,
        stepSizes: instruments.map((i) => i.stepSize),
        tickSizes: instruments.map((i) => i.tickSize),
        epochWallMs: startWallMs,
        config,
      },
      // a backtest journal can be rebuilt by running again: no fsync per batch
      synchronous: 'normal',
      maxBatch: 1 << 13,
      wallMs: () => startWallMs,
    });
  }

  readonly intent = (i32: Int32Array, base: number): void => {
    this.feed.intent(i32, base);
    this.written();
  };

  readonly report = (i32: Int32Array, base: number): void => {
    this.feed.report(i32, base);
    this.written();
  };

  private written(): void {
    if (++this.pending >= 1 << 13) this.flush();
  }

  flush(): void {
    while (this.writer.drainBatch() > 0) {
      /* until the feed is empty */
    }
    this.pending = 0;
  }

  close(): void {
    this.flush();
    this.writer.close('backtest done');
  }
}
