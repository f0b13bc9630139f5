import type { Doorbell } from '../ring/Doorbell.js';
import type { JournalWriter } from './JournalWriter.js';
import { JournalStat, type JournalControl } from './JournalControl.js';

export interface JournalLoopOptions {
  /**
   * How long to park when the feeds are empty (ms). The journal does not announce its sleep, so producers
   * never pay an Atomics.notify on the hot path; records wait at most this long. Default 20.
   */
  idleParkMs?: number;
}

/**
 * The journal worker's loop: write a batch while there are records, park on the doorbell when there are
 * none (never spins: the box has 2 cores), stop when asked, then drain the rest and close.
 */
export function runJournalLoop(writer: JournalWriter, doorbell: Doorbell, control: JournalControl, opts: JournalLoopOptions = {}): void {
  const parkMs = opts.idleParkMs ?? 20;
  let parks = 0;
  control.setAlive(true);
  while (!control.stopRequested()) {
    const n = writer.drainBatch();
    publish(writer, control, parks);
    if (n > 0) continue;
    parks++;
    // a stop request rings the doorbell with wake(); producers do not (no sleeping flag is set)
    doorbell.wait(doorbell.seq(), parkMs);
  }
  writer.close('stop');
  publish(writer, control, parks);
  control.setAlive(false);
}

function publish(w: JournalWriter, c: JournalControl, parks: number): void {
  const k = w.counters;
  c.set(JournalStat.Records, k.records);
  c.set(JournalStat.Batches, k.batches);
  c.set(JournalStat.Fills, k.fills);
  c.set(JournalStat.LastSeq, w.lastSeq);
  c.set(JournalStat.LostByProducers, k.lostByProducers);
  c.set(JournalStat.FailedBatches, k.failedBatches);
  c.set(JournalStat.Parks, parks);
}
