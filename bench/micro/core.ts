/**
 * Micro benches of the engine's own hot-path pieces: ring publish/consume in one thread, the order
 * encoder with its HMAC signature, and the bare HMAC-SHA256 of a typical order payload.
 */
import type { Bench } from 'tinybench';
import { SpscRing } from '../../src/ring/SpscRing.js';
import { IN, W, OrderType, Side, TimeInForce } from '../../src/ring/layout.js';
import { makeInstrument } from '../../src/core/Instrument.js';
import { BinanceOrderEncoder } from '../../src/venues/binance/OrderEncoder.js';
import { signHex } from '../../src/venues/binance/sign.js';

const BATCH = 256;

export function registerCoreBenches(bench: Bench): void {
  const ring = SpscRing.create('bench', 4096, 128);
  let seq = 0;
  let sink = 0;
  const now = bench.now;
  bench.add('ring.publishConsume', () => {
    // BATCH records published one by one (commit each) then drained as one batch; reported per record.
    const t0 = now();
    for (let i = 0; i < BATCH; i++) {
      const b = ring.claim();
      ring.f64[b + 3] = seq++;
      ring.commit();
    }
    const n = ring.poll();
    for (let i = 0; i < n; i++) sink += ring.f64[ring.readBase(i) + 3]!;
    ring.release(n);
    const dt = now() - t0;
    return { overriddenDuration: dt / BATCH, overriddenIterationCost: dt };
  });

  const inst = makeInstrument('BTCUSDT', '0.10', '0.001', '0.001', '100');
  const enc = new BinanceOrderEncoder([inst], 'NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j', 'hbench-', 5000);
  const intent = new Float64Array(16);
  intent[IN.INTENT_ID] = 123456;
  intent[IN.SIDE] = Side.Buy;
  intent[IN.ORDER_TYPE] = OrderType.Limit;
  intent[IN.TIF] = TimeInForce.Ioc;
  intent[IN.PRICE_TICKS] = 1042357;
  intent[IN.QTY_STEPS] = 15;
  intent[W.RECV_TS] = 1;
  const out = Buffer.allocUnsafe(1024);
  bench.add('order.encodeAndSign', () => {
    sink += enc.encode(intent, 0, 0, 1763459530122, out);
  });
  const payload = 'symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.015&price=104235.70&newClientOrderId=hbench-123456&newOrderRespType=RESULT&recvWindow=5000&timestamp=1763459530122';
  bench.add('sign.hmacSha256', () => {
    sink += signHex('NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j', payload).length;
  });
  if (sink < 0) console.log(sink);
}
