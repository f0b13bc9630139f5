import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Doorbell } from '../ring/Doorbell.js';
import type { RingDescriptor, SpscRing } from '../ring/SpscRing.js';
import { createJournalFeed } from './JournalFeed.js';
import { JournalControl } from './JournalControl.js';
import type { JournalSessionInfo } from './JournalWriter.js';
import type { SyncMode } from './schema.js';

/** workerData of workers/journal.ts (structured-cloneable). */
export interface JournalWorkerInit {
  dbPath: string;
  feeds: RingDescriptor[];
  doorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  session: JournalSessionInfo;
  synchronous?: SyncMode;
  maxBatch?: number;
  snapshotIntervalMs?: number;
  idleParkMs?: number;
  pendingTimeoutMs?: number;
  /** process epoch of the main thread (clock.ts), for the pending timeout */
  epoch?: bigint;
  /** post `{ type: 'committed', ... }` after each transaction (tests, crash checks) */
  reportCommits?: boolean;
}

export interface JournalChannelOptions extends Omit<JournalWorkerInit, 'feeds' | 'doorbell' | 'control'> {
  /** feed names, one per producing thread (default ['execution']) */
  feedNames?: string[];
  /** slots per feed (power of two). Default 16384 (4 MiB). */
  feedCapacity?: number;
  /** path of the built worker entry (default: dist/workers/journal.js next to this module) */
  workerFile?: string;
}

/**
 * The owner's side of the journal (the engine's main thread): the feed rings, the worker's doorbell and
 * control words, the worker itself. Hand `feeds[i].descriptor()` to the producing thread; it wraps the
 * attached ring in a JournalFeedWriter. `stop()` asks the worker to drain, close the session and exit.
 */
export class JournalChannel {
  readonly doorbell: Doorbell;
  readonly control: JournalControl;
  readonly feeds: SpscRing[];
  readonly worker: Worker;
  private readonly exited: Promise<number>;

  constructor(opts: JournalChannelOptions) {
    this.doorbell = Doorbell.create();
    this.control = JournalControl.create();
    const cap = opts.feedCapacity ?? 1 << 14;
    this.feeds = (opts.feedNames ?? ['execution']).map((n) => createJournalFeed(`journal-${n}`, cap, this.doorbell));
    const { feedNames: _n, feedCapacity: _c, workerFile, ...rest } = opts;
    const init: JournalWorkerInit = { ...rest, feeds: this.feeds.map((f) => f.descriptor()), doorbell: this.doorbell.sab, control: this.control.sab };
    const file = workerFile ?? fileURLToPath(new URL('../../workers/journal.js', import.meta.url));
    this.worker = new Worker(file, { workerData: init });
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
  }

  /** Resolves when the worker has opened the database (rejects if it could not). */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: { type?: string }): void => {
        if (m.type === 'ready') {
          this.worker.off('message', onMsg);
          this.worker.off('error', reject);
          resolve();
        }
      };
      this.worker.on('message', onMsg);
      this.worker.once('error', reject);
    });
  }

  /** Drain, close the session, exit. Resolves with the worker's exit code. */
  async stop(): Promise<number> {
    this.control.requestStop();
    this.doorbell.wake();
    return this.exited;
  }
}
