/**
 * Receive throughput: our in-place WsClient vs undici's WebSocket, same server, same run.
 *
 * A uWS server (in a worker thread, so its send work does not share the measuring thread) blasts N
 * text frames of a realistic Binance bookTicker combined-stream message to each client that connects.
 * We time open -> Nth message on the client thread for:
 *   (a) WsClient: handler gets (buf, start, end) and touches a byte of each frame;
 *   (b) undici WebSocket, `message` event (data is a string), then Buffer.from(data): what a byte
 *       decoder fed by undici would have to do;
 *   (c) undici WebSocket, data only (string, one char read).
 * Plus a ceiling row: a raw TCP socket that only counts bytes (no WebSocket parsing at all).
 * GCs in the client thread during each run are counted too (the WsClient path should cause none).
 *
 * Run: `node dist/bench/wsclient.js [messages] [size]` after `tsc`, or call runWsClientBench().
 */
import { createRequire } from 'node:module';
import * as net from 'node:net';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WebSocket as UndiciWebSocket } from 'undici';
import { WsClient } from '../src/net/WsClient.js';
import { nowNs } from '../src/util/clock.js';

export interface WsBenchRow {
  /** Messages per wall-clock second, open -> last message. */
  msgsPerSec: number;
  /** Wall-clock ns per message (1e9 / msgsPerSec). */
  meanNsPerMsg: number;
  /** Busy time of the client thread (event-loop utilisation) per message, ns: the client's own CPU cost. */
  busyNsPerMsg?: number;
  /** Garbage collections in the client thread during the run. */
  gcs?: number;
}

interface RunResult {
  ns: number;
  busyNs: number;
  gcs: number;
  check: number;
}

type Elu = ReturnType<typeof performance.eventLoopUtilization>;

/** GC count and event-loop busy time of this thread, from start() to stop(). */
function probe(): { stop(): { gcs: number; busyNs: number } } {
  let n = 0;
  const obs = new PerformanceObserver((list) => { n += list.getEntries().length; });
  obs.observe({ entryTypes: ['gc'] });
  const elu0: Elu = performance.eventLoopUtilization();
  return {
    stop() {
      const busyNs = performance.eventLoopUtilization(elu0).active * 1e6;
      n += obs.takeRecords().length;
      obs.disconnect();
      return { gcs: n, busyNs };
    },
  };
}

/** Server side, run in a worker (plain JS: workers do not load .ts). */
const SERVER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const uWS = require(workerData.uwsPath);
const msgs = workerData.msgs.map((m) => new Uint8Array(m));
const mask = msgs.length - 1;
const HIGH = 1 << 20;
let listen = null;
function pump(ws) {
  const u = ws.getUserData();
  ws.cork(() => {
    while (u.sent < u.n && ws.getBufferedAmount() < HIGH) {
      ws.send(msgs[u.sent & mask], false);
      u.sent++;
    }
  });
}
uWS.App().ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  upgrade: (res, req, ctx) => {
    const n = Number(req.getQuery('n')) || 0;
    res.upgrade({ n, sent: 0 }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'), ctx);
  },
  open: (ws) => pump(ws),
  drain: (ws) => pump(ws),
}).listen('127.0.0.1', 0, (ls) => {
  listen = ls;
  parentPort.postMessage({ port: ls ? uWS.us_socket_local_port(ls) : -1 });
});
parentPort.on('message', (m) => {
  if (m === 'stop') { if (listen) uWS.us_listen_socket_close(listen); listen = null; parentPort.close(); process.exit(0); }
});
`;

/** Realistic combined-stream bookTicker frames (~170 bytes), varied so no two are alike; power-of-two count. */
function makeMessages(size: number | undefined): Buffer[] {
  const out: Buffer[] = [];
  let u = 8_822_354_685_456;
  let t = 1_747_051_323_123;
  for (let i = 0; i < 1024; i++) {
    u += 1 + (i % 7);
    t += i % 3;
    const bid = 104_250 + ((i * 37) % 200) / 10;
    const json =
      `{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":${u},"s":"BTCUSDT",` +
      `"b":"${bid.toFixed(2)}","B":"${(1 + (i % 50) / 7).toFixed(3)}","a":"${(bid + 0.1).toFixed(2)}",` +
      `"A":"${(0.2 + (i % 13) / 11).toFixed(3)}","T":${t},"E":${t + 4}}}`;
    let b = Buffer.from(json);
    if (size !== undefined && size > 0) {
      // pad with JSON whitespace before the last brace, or cut (still a fine byte stream for this bench)
      b = size >= b.length ? Buffer.concat([b.subarray(0, b.length - 1), Buffer.alloc(size - b.length, 0x20), Buffer.from('}')]) : b.subarray(0, size);
    }
    out.push(b);
  }
  return out;
}

function runWsClient(url: string, n: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let check = 0;
    let t0 = 0;
    let pr: ReturnType<typeof probe> | null = null;
    const client: WsClient = new WsClient(url, {
      onOpen() {
        pr = probe();
        t0 = nowNs();
      },
      onMessage(buf: Buffer, start: number, end: number) {
        check += buf[start + ((end - start) >> 1)]!;
        if (++count === n) {
          const ns = nowNs() - t0;
          const { gcs, busyNs } = pr !== null ? pr.stop() : { gcs: 0, busyNs: 0 };
          client.close();
          resolve({ ns, busyNs, gcs, check });
        }
      },
      onClose(code: number, reason: string) {
        if (count < n) reject(new Error(`WsClient closed early: ${code} ${reason}`));
      },
    }, { reconnect: false });
    client.connect();
  });
}

function runUndici(url: string, n: number, toBuffer: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let count = 0;
    let check = 0;
    let t0 = 0;
    let pr: ReturnType<typeof probe> | null = null;
    const ws = new UndiciWebSocket(url);
    ws.addEventListener('open', () => {
      pr = probe();
      t0 = nowNs();
    });
    ws.addEventListener('message', (ev) => {
      const data = ev.data as string;
      if (toBuffer) {
        const b = Buffer.from(data);
        check += b[b.length >> 1]!;
      } else {
        check += data.charCodeAt(data.length >> 1);
      }
      if (++count === n) {
        const ns = nowNs() - t0;
        const { gcs, busyNs } = pr !== null ? pr.stop() : { gcs: 0, busyNs: 0 };
        ws.close();
        resolve({ ns, busyNs, gcs, check });
      }
    });
    ws.addEventListener('error', () => reject(new Error('undici WebSocket error')));
    ws.addEventListener('close', () => {
      if (count < n) reject(new Error('undici WebSocket closed early'));
    });
  });
}

/** Ceiling: the same bytes through a raw TCP socket that only counts them (handshake done by hand). */
function runRawSink(port: number, path: string, totalBytes: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    let got = -1;
    let t0 = 0;
    let pr: ReturnType<typeof probe> | null = null;
    const buf = Buffer.allocUnsafe(64 * 1024);
    const s = net.connect({
      host: '127.0.0.1',
      port,
      onread: {
        buffer: buf,
        callback: (nread: number): boolean => {
          if (got < 0) {
            const end = buf.subarray(0, nread).indexOf('\r\n\r\n');
            if (end < 0) return true; // handshake is one short read on loopback
            got = nread - end - 4;
            pr = probe();
            t0 = nowNs();
          } else {
            got += nread;
          }
          if (got >= totalBytes) {
            const ns = nowNs() - t0;
            const { gcs, busyNs } = pr !== null ? pr.stop() : { gcs: 0, busyNs: 0 };
            s.destroy();
            resolve({ ns, busyNs, gcs, check: got });
          }
          return true;
        },
      },
    });
    s.setNoDelay(true);
    s.on('error', reject);
    s.on('connect', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
  });
}

export async function runWsClientBench(opts: { messages?: number; size?: number; rounds?: number } = {}): Promise<Record<string, WsBenchRow>> {
  const n = opts.messages ?? 200_000;
  const rounds = Math.max(1, opts.rounds ?? 2);
  const msgs = makeMessages(opts.size);
  const frameBytes = (i: number): number => {
    const len = msgs[i & (msgs.length - 1)]!.length;
    return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
  };
  let totalBytes = 0;
  for (let i = 0; i < n; i++) totalBytes += frameBytes(i);
  const meanSize = msgs.reduce((a, m) => a + m.length, 0) / msgs.length;

  const require = createRequire(import.meta.url);
  const worker = new Worker(SERVER_SRC, {
    eval: true,
    workerData: { uwsPath: require.resolve('uWebSockets.js'), msgs: msgs.map((m) => Uint8Array.from(m).buffer) },
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { port: number }) => (m.port > 0 ? resolve(m.port) : reject(new Error('uWS listen failed'))));
      worker.once('error', reject);
    });
    const url = (count: number): string => `ws://127.0.0.1:${port}/stream?streams=btcusdt@bookTicker&n=${count}`;
    const path = (count: number): string => `/stream?streams=btcusdt@bookTicker&n=${count}`;

    const variants: Array<[string, (count: number) => Promise<RunResult>]> = [
      ['WsClient (buf,start,end)', (c) => runWsClient(url(c), c)],
      ['undici + Buffer.from(str)', (c) => runUndici(url(c), c, true)],
      ['undici, string only', (c) => runUndici(url(c), c, false)],
    ];
    // warm-up: JIT both clients and the server
    const warm = Math.min(20_000, n);
    for (const [, run] of variants) await run(warm);

    const best = new Map<string, RunResult>();
    for (let r = 0; r < rounds; r++) {
      for (const [name, run] of variants) {
        const res = await run(n);
        const prev = best.get(name);
        if (prev === undefined || res.ns < prev.ns) best.set(name, res);
      }
    }
    // ceiling of this server + loopback: bytes counted, nothing parsed
    let sink: RunResult | null = null;
    for (let r = 0; r < rounds; r++) {
      const res = await runRawSink(port, path(n), totalBytes);
      if (sink === null || res.ns < sink.ns) sink = res;
    }

    const row = (res: RunResult): WsBenchRow => ({ msgsPerSec: n / (res.ns / 1e9), meanNsPerMsg: res.ns / n, busyNsPerMsg: res.busyNs / n, gcs: res.gcs });
    const out: Record<string, WsBenchRow> = {};
    for (const [name] of variants) out[name] = row(best.get(name)!);
    if (sink !== null) out['raw socket sink (ceiling)'] = row(sink);

    const base = out['WsClient (buf,start,end)']!.meanNsPerMsg;
    console.log(`\nWebSocket receive: ${n} frames of ~${meanSize.toFixed(0)} B (bookTicker, combined stream), best of ${rounds}, uWS server in a worker`);
    console.log(`${'client'.padEnd(28)} ${'msgs/s'.padStart(12)} ${'ns/msg'.padStart(9)} ${'vs WsClient'.padStart(12)} ${'busy ns/msg'.padStart(12)} ${'GCs'.padStart(5)}`);
    for (const [name, r] of Object.entries(out)) {
      console.log(
        `${name.padEnd(28)} ${Math.round(r.msgsPerSec).toLocaleString('en-US').padStart(12)} ${r.meanNsPerMsg.toFixed(0).padStart(9)} ` +
        `${(r.meanNsPerMsg / base).toFixed(2).padStart(11)}x ${(r.busyNsPerMsg ?? 0).toFixed(0).padStart(12)} ${String(r.gcs ?? 0).padStart(5)}`,
      );
    }
    console.log('ns/msg = wall clock (bounded by the server: see the ceiling row); busy ns/msg = client-thread CPU per message');
    return out;
  } finally {
    worker.postMessage('stop');
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => { void worker.terminate().then(() => resolve()); }, 1_000);
      worker.once('exit', () => { clearTimeout(t); resolve(); });
    });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const messages = process.argv[2] !== undefined ? Number(process.argv[2]) : undefined;
  const size = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
  const t0 = Date.now();
  runWsClientBench({ messages, size })
    .then(() => console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
