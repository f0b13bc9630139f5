import { readFileSync } from 'node:fs';
import { SymbolRegistry } from '../src/core/SymbolRegistry.js';
import { ArraySlotWriter } from '../src/ring/SlotWriter.js';
import { MARKET_SLOT_BYTES } from '../src/ring/layout.js';
import { GateMarketDecoder } from '../src/venues/gate/MarketDecoder.js';
import { RecordingReader, RecordingSource } from '../src/venues/binance/recording.js';
import { gateRecordingContracts } from '../src/venues/gate/recording.js';

export interface GateDecodeBenchResult {
  frames: number;
  /** ns per frame, best of `rounds` */
  oursNs: number;
  jsonParseNs: number;
  ratio: number;
}

/**
 * GateMarketDecoder vs JSON.parse (from the same bytes) on every ws frame of a Gate recording, each pass over
 * all frames, best of `rounds`. Not wired into bench/index.ts: call it from a script.
 */
export function benchGateDecode(recording: string, rounds = 30): GateDecodeBenchResult {
  const frames: Buffer[] = [];
  for (const line of RecordingReader.open(recording)) {
    if (line.src !== RecordingSource.Ws || line.msgEnd <= line.msgStart || line.msgIsString) continue;
    frames.push(Buffer.from(line.buf.subarray(line.msgStart, line.msgEnd)));
  }
  const dec = new GateMarketDecoder(new SymbolRegistry(gateRecordingContracts(recording)), () => 0);
  const out = new ArraySlotWriter(MARKET_SLOT_BYTES, 64);
  let sink = 0;
  const ours = (): void => {
    for (const b of frames) {
      out.reset();
      sink += dec.decode(b, 0, b.length, 0, out);
    }
  };
  const parse = (): void => {
    for (const b of frames) sink += (JSON.parse(b.toString('utf8')) as { time: number }).time & 1;
  };
  const best = (fn: () => void): number => {
    let least = Infinity;
    for (let r = 0; r < rounds; r++) {
      const t0 = process.hrtime.bigint();
      fn();
      const ns = Number(process.hrtime.bigint() - t0) / frames.length;
      if (ns < least) least = ns;
    }
    return least;
  };
  best(ours);
  best(parse);
  const oursNs = best(ours);
  const jsonParseNs = best(parse);
  if (sink === 0.5) readFileSync(recording); // keeps `sink` observable
  return { frames: frames.length, oursNs, jsonParseNs, ratio: jsonParseNs / oursNs };
}
