import { describe, expect, it } from 'vitest';
import { renderTui, tuiViewFrom } from '../src/control/Tui.js';

describe('terminal view (hft run --tui)', () => {
  it('renders prices, positions, PnL, per-stage latency, recent orders and logs from the control views', () => {
    const stats = {
      running: true,
      mode: 'paper',
      tradingState: 'HALTED',
      strategy: { name: 'ping-pong' },
      pnl: { equity: 10_012.5, realized: 12.5, fees: 0.75 },
      counters: { intents: 7, ordersSent: 6, fills: 5, rejects: 1, riskRejects: 2, decodeErrors: 0 },
      stages: { tickToOrder: { count: 6, p50: 721_400, p99: 5_361_700, max: 5_361_700 }, decode: { count: 100, p50: 8_000, p99: 122_500, max: 2_164_700 } },
      workers: {
        feed: { book_BTCUSDT: 2, bid_BTCUSDT: 100001.8, ask_BTCUSDT: 100001.9, book_ETHUSDT: 1 },
        strategy: { position_BTCUSDT: 0.004, position_ETHUSDT: 0 },
      },
    };
    const orders = { recent: [{ client_order_id: 'habc-7', symbol: 'BTCUSDT', side: -1, qty: 0.002, avg_price: 100001.8, state: 'filled' }] };
    const view = tuiViewFrom(stats, orders, [{ t: Date.UTC(2026, 0, 1, 12, 0, 5), level: 'warn', msg: 'trading halt: state HALTED\nsecond line' }], ['BTCUSDT', 'ETHUSDT'], 'binance-usdm');
    const text = renderTui({ ...view, nowMs: Date.UTC(2026, 0, 1, 12, 0, 7) }, 100, false);
    const lines = text.split('\n');
    expect(lines[0]).toBe('hft  12:00:07 UTC  paper on binance-usdm  strategy ping-pong  trading HALTED');
    expect(lines).toContain('BTCUSDT         100001.80    100001.90       0.0040  live');
    expect(lines).toContain('ETHUSDT                 -            -       0.0000  syncing');
    expect(lines).toContain('equity 10012.50   realized 12.5000   fees 0.7500');
    expect(lines).toContain('intents 7  sent 6  fills 5  rejects 1  risk rejects 2  decode errors 0');
    expect(lines).toContain('decode             100      8.00     122.5    2164.7');
    expect(lines).toContain('tickToOrder          6     721.4    5361.7    5361.7');
    expect(lines).toContain('  habc-7             BTCUSDT    SELL     0.0020 @  100001.80  filled');
    // one line per log entry, first line only
    expect(lines.at(-1)).toBe('  12:00:05 warn  trading halt: state HALTED');
    // colours only when asked, and the width is kept
    expect(text).not.toContain('\x1b[');
    expect(renderTui(view, 100, true)).toContain('\x1b[31mHALTED\x1b[0m');
    expect(renderTui({ ...view, logs: [{ t: 0, level: 'info', msg: 'x'.repeat(300) }] }, 60, false).split('\n').at(-1)!.length).toBe(60);
  });
});
