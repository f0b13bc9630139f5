/**
 * The simulated venue of bench/replay.ts, in its own thread so its sending does not share the measuring
 * thread: replays a recording as fast as the client reads it, looped up to `maxFrames` frames.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startBinanceVenue } from '../src/sim/binance/BinanceVenue.js';

interface Data {
  file: string;
  maxFrames: number;
}

const port = parentPort;
if (port === null) throw new Error('replayVenueWorker: run me as a worker');
const d = workerData as Data;
const v = await startBinanceVenue({
  port: 0,
  source: { kind: 'replay', file: d.file, speed: 0, loop: true, maxFrames: d.maxFrames, startDelayMs: 50 },
  // a slow client must slow the replay down (speed 0 waits for drain), never lose frames
  maxBufferedBytes: 64 * 1024 * 1024,
});
port.postMessage({ type: 'ready', port: v.port, restUrl: v.restUrl, wsUrl: v.wsUrl });
void v.replay!.whenDone().then(() => port.postMessage({ type: 'done', stats: v.stats() }));
port.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  void v.close().then(() => {
    port.postMessage({ type: 'closed' });
    port.close();
  });
});
