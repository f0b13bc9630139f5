import { REPORT_SLOT_BYTES } from '../ring/layout.js';

/**
 * The journal feed: an SPSC ring (SpscRing) from a hot-path thread to the journal worker. Its slots hold
 * verbatim copies of ring-B intent records and ring-C report and account records (their own header type,
 * from ring/layout.ts, tells which), plus the journal-only records below. A slot is as large as the largest
 * record copied (a ring-C slot).
 *
 * Journal-only types start at 112, clear of every RecordType in ring/layout.ts.
 */
export const JOURNAL_SLOT_BYTES = REPORT_SLOT_BYTES;
export const JOURNAL_SLOT_WORDS = JOURNAL_SLOT_BYTES / 8;
/** Words copied for an intent (a ring-B slot) and for a report (a ring-C slot). */
export const INTENT_COPY_WORDS = 16;
export const REPORT_COPY_WORDS = 32;

export const enum JournalRecordType {
  /** Records were lost before this one (the feed and its spill queue were both full). Symbol -1. */
  Gap = 112,
  /** The strategy's pre-trade risk refused an order (it never reached ring B). */
  RiskReject = 113,
}

/** Gap: word indices (float64). Word 0 = [int32 header, int32 symbol]. */
export const enum JG {
  /** when the producer wrote this record (ns since the process epoch) */
  PUB_TS = 2,
  /** records lost since the previous Gap */
  LOST = 3,
}

/** RiskReject: word indices. Header symbol = the order's symbol id. */
export const enum JRR {
  /** receive time of the market record that triggered the order (ns) */
  RECV_TS = 1,
  PUB_TS = 2,
  SIDE = 3,
  /** quantity and price asked for (base units, quote units) */
  QTY = 4,
  PRICE = 5,
  /** RejectReason */
  REASON = 6,
  /** the limit that refused it and the value that broke it (e.g. max position, resulting position) */
  LIMIT = 7,
  VALUE = 8,
  MSG_LEN = 9,
  /** UTF-8 text from this word to the end of the slot */
  MSG = 10,
}
export const RISK_MSG_MAX = (JOURNAL_SLOT_WORDS - JRR.MSG) * 8;
