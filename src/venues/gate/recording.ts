import { RecordingReader, RecordingSource } from '../binance/recording.js';
import { restContract } from './book.js';

/**
 * Gate recordings in the shared format (fixtures/MANIFEST.md "recordings"; the line reader is the
 * venue-neutral RecordingReader). Gate's market url names no contract, so contracts come from the REST
 * snapshot urls (`contract=`), the outgoing subscribe payloads and the pushes' `"s"` / `"contract"` fields.
 */

const CONTRACT_RE = /^[A-Z0-9_]{1,40}$/;

/** Contracts a Gate recording names, sorted. */
export function gateRecordingContracts(file: string): string[] {
  const found = new Set<string>();
  const reader = RecordingReader.open(file);
  const keys = [Buffer.from('"s":"'), Buffer.from('"contract":"')];
  for (const line of reader) {
    if (line.src === RecordingSource.Rest) {
      const c = restContract(line.url);
      if (c !== '') found.add(c);
      continue;
    }
    if (line.msgEnd <= line.msgStart || line.msgIsString) continue;
    const msg = Buffer.from(line.buf.buffer, line.buf.byteOffset + line.msgStart, line.msgEnd - line.msgStart);
    if (line.src === RecordingSource.WsOut) {
      // {"channel":"futures.xxx","event":"subscribe","payload":[...]}: the contract-looking strings
      const m = /"payload"\s*:\s*(\[[^\]]*\])/.exec(msg.toString('latin1'));
      if (m) {
        for (const s of m[1]!.matchAll(/"([A-Z0-9]+_[A-Z0-9_]+)"/g)) found.add(s[1]!);
      }
      continue;
    }
    if (line.src !== RecordingSource.Ws) continue;
    for (const k of keys) {
      let at = msg.indexOf(k);
      while (at >= 0) {
        const end = msg.indexOf(0x22, at + k.length);
        if (end > at) found.add(msg.toString('latin1', at + k.length, end));
        at = msg.indexOf(k, at + 1);
      }
    }
  }
  return [...found].filter((s) => CONTRACT_RE.test(s)).sort();
}

export type RecordingVenue = 'binance' | 'gate';

/**
 * Which venue a recording comes from: its first url (a Gate host or `/v4/ws/` path, or Binance's), else the
 * first ws payload (`"channel":"futures.` is Gate's envelope). Binance when nothing tells.
 */
export function detectRecordingVenue(file: string): RecordingVenue {
  const reader = RecordingReader.open(file);
  const gateChannel = Buffer.from('"channel":"futures.');
  let lines = 0;
  try {
    for (const line of reader) {
      if (/gateio|gate\.com|gateapi|\/v4\/ws\/|\/api\/v4\/futures\//.test(line.url)) return 'gate';
      if (/binance|\/fapi\/|\/stream\?|\/ws\/[a-z0-9]+@/.test(line.url)) return 'binance';
      if (line.src === RecordingSource.Ws && line.msgEnd > line.msgStart) {
        const msg = Buffer.from(line.buf.buffer, line.buf.byteOffset + line.msgStart, line.msgEnd - line.msgStart);
        if (msg.indexOf(gateChannel) >= 0) return 'gate';
      }
      if (++lines > 1000) break;
    }
  } finally {
    reader.close();
  }
  return 'binance';
}
