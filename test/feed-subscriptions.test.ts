import { describe, expect, it } from 'vitest';
import { SubscriptionManager } from '../src/feed/SubscriptionManager.js';
import { marketConnections, splitBaseOf, streamNames } from '../src/venues/binance/streamRouting.js';

/** A fake clock with timers, so the 10 msg/s budget can be checked without waiting. */
class FakeTime {
  t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  now = (): number => this.t;
  setTimer = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimer = (id: unknown): void => {
    this.timers = this.timers.filter((x) => x.id !== id);
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

class FakeSocket {
  open = true;
  sent: Array<{ at: number; msg: { method: string; params?: string[]; id: number } }> = [];
  constructor(private readonly time: FakeTime) {}
  send(text: string): boolean {
    if (!this.open) return false;
    this.sent.push({ at: this.time.t, msg: JSON.parse(text) });
    return true;
  }
}

function setup(opts: { maxPerSecond?: number; batchSize?: number; replyTimeoutMs?: number } = {}) {
  const time = new FakeTime();
  const sock = new FakeSocket(time);
  const mgr = new SubscriptionManager(sock, { ...opts, now: time.now, setTimer: time.setTimer, clearTimer: time.clearTimer });
  return { time, sock, mgr };
}

describe('stream routing (2026 URL split)', () => {
  it('sends book streams to /public and the rest to /market', () => {
    expect(splitBaseOf('btcusdt@bookTicker')).toBe('public');
    expect(splitBaseOf('btcusdt@depth@100ms')).toBe('public');
    expect(splitBaseOf('btcusdt@depth20@100ms')).toBe('public');
    expect(splitBaseOf('!bookTicker')).toBe('public');
    expect(splitBaseOf('btcusdt@aggTrade')).toBe('market');
    expect(splitBaseOf('btcusdt@markPrice@1s')).toBe('market');
    expect(splitBaseOf('btcusdt@kline_1m')).toBe('market');
    expect(splitBaseOf('btcusdt@forceOrder')).toBe('market');
    expect(splitBaseOf('!forceOrder@arr')).toBe('market');
  });

  it('builds one combined connection per base path, or one on the legacy root', () => {
    const streams = streamNames(['BTCUSDT', 'ETHUSDT'], ['bookTicker', 'aggTrade', 'depth@100ms']);
    const split = marketConnections('wss://fstream.binance.com/', streams, 'split', 'url');
    expect(split.map((c) => c.base)).toEqual(['public', 'market']);
    expect(split[0]!.url).toBe('wss://fstream.binance.com/public/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/ethusdt@bookTicker/ethusdt@depth@100ms');
    expect(split[1]!.streams).toEqual(['btcusdt@aggTrade', 'ethusdt@aggTrade']);
    const legacy = marketConnections('wss://fstream.binancefuture.com', streams, 'legacy', 'message');
    expect(legacy).toHaveLength(1);
    expect(legacy[0]!.url).toBe('wss://fstream.binancefuture.com/stream');
    expect(legacy[0]!.streams).toHaveLength(6);
  });

  it('splits more than 1000 streams over several connections', () => {
    const syms = Array.from({ length: 600 }, (_, i) => `S${i}USDT`);
    const conns = marketConnections('ws://h', streamNames(syms, ['bookTicker', 'depth']), 'split', 'message');
    expect(conns.map((c) => c.streams.length)).toEqual([1000, 200]);
  });
});

describe('SubscriptionManager', () => {
  it('subscribes what the URL did not carry, batched, and tracks acks', () => {
    const { sock, mgr } = setup({ batchSize: 2 });
    mgr.subscribe(['a@bookTicker', 'b@bookTicker', 'c@bookTicker']);
    expect(sock.sent).toHaveLength(0); // not open yet
    mgr.onOpen(['a@bookTicker']);
    expect(sock.sent.map((s) => s.msg.params)).toEqual([['b@bookTicker', 'c@bookTicker']]);
    expect(mgr.subscriptions()).toEqual(['a@bookTicker']);
    const id = sock.sent[0]!.msg.id;
    expect(mgr.onReply(`{"result":null,"id":${id}}`)).toBe(true);
    expect(mgr.subscriptions().sort()).toEqual(['a@bookTicker', 'b@bookTicker', 'c@bookTicker']);
    expect(mgr.counters.acked).toBe(1);
  });

  it('never sends more than maxPerSecond control messages in any second', () => {
    const { time, sock, mgr } = setup({ maxPerSecond: 4, batchSize: 1 });
    mgr.onOpen();
    mgr.subscribe(Array.from({ length: 25 }, (_, i) => `s${i}@aggTrade`));
    expect(sock.sent).toHaveLength(4);
    // answer everything as it goes so nothing times out
    for (let step = 0; step < 100; step++) {
      for (const s of sock.sent) mgr.onReply(`{"result":null,"id":${s.msg.id}}`);
      time.advance(100);
    }
    expect(sock.sent).toHaveLength(25);
    const times = sock.sent.map((s) => s.at);
    for (let i = 4; i < times.length; i++) expect(times[i]! - times[i - 4]!).toBeGreaterThanOrEqual(1000);
    expect(mgr.subscriptions()).toHaveLength(25);
    expect(mgr.backlog).toBe(0);
  });

  it('UNSUBSCRIBE removes streams once acked; LIST_SUBSCRIPTIONS resolves with the venue list', async () => {
    const { sock, mgr } = setup();
    mgr.onOpen(['x@trade', 'y@trade']);
    mgr.unsubscribe(['x@trade']);
    const unsub = sock.sent[0]!.msg;
    expect(unsub.method).toBe('UNSUBSCRIBE');
    expect(unsub.params).toEqual(['x@trade']);
    mgr.onReply(`{"result":null,"id":${unsub.id}}`);
    expect(mgr.subscriptions()).toEqual(['y@trade']);
    const listed = mgr.list();
    const list = sock.sent[1]!.msg;
    expect(list.method).toBe('LIST_SUBSCRIPTIONS');
    mgr.onReply(`{"result":["y@trade"],"id":${list.id}}`);
    await expect(listed).resolves.toEqual(['y@trade']);
  });

  it('counts error replies and rejects the request they answer', async () => {
    const { sock, mgr } = setup();
    mgr.onOpen();
    const listed = mgr.list();
    const id = sock.sent[0]!.msg.id;
    mgr.onReply(`{"code":2,"msg":"Invalid request: unknown method","id":${id}}`);
    await expect(listed).rejects.toThrow(/unknown method/);
    expect(mgr.counters.errors).toBe(1);
    expect(mgr.error).toMatch(/code 2/);
    expect(mgr.onReply('{"result":null,"id":9999}')).toBe(true);
    expect(mgr.counters.strayReplies).toBe(1);
    expect(mgr.onReply('not json')).toBe(false);
  });

  it('retries an unanswered SUBSCRIBE once, then counts it as timed out', () => {
    const { time, sock, mgr } = setup({ replyTimeoutMs: 1000 });
    mgr.onOpen();
    mgr.subscribe(['z@depth']);
    expect(sock.sent).toHaveLength(1);
    time.advance(1001);
    expect(sock.sent).toHaveLength(2);
    expect(sock.sent[1]!.msg.params).toEqual(['z@depth']);
    time.advance(1001);
    expect(mgr.counters.timeouts).toBe(2);
    expect(sock.sent).toHaveLength(2);
  });

  it('re-subscribes everything wanted after a reconnect', () => {
    const { sock, mgr } = setup();
    mgr.onOpen();
    mgr.subscribe(['a@aggTrade', 'b@aggTrade']);
    mgr.onReply(`{"result":null,"id":${sock.sent[0]!.msg.id}}`);
    mgr.onClose();
    expect(mgr.subscriptions()).toEqual([]);
    mgr.onOpen();
    expect(sock.sent[1]!.msg.method).toBe('SUBSCRIBE');
    expect(sock.sent[1]!.msg.params).toEqual(['a@aggTrade', 'b@aggTrade']);
  });

  it('recognises control replies from their first key without parsing', () => {
    const b = (s: string) => Buffer.from(s);
    const is = (s: string) => SubscriptionManager.isControlReply(b(s), 0, s.length);
    expect(is('{"result":null,"id":1}')).toBe(true);
    expect(is('{"id":1,"result":null}')).toBe(true);
    expect(is('{"code":0,"msg":"Unknown property","id":1}')).toBe(true);
    expect(is('{"stream":"btcusdt@aggTrade","data":{}}')).toBe(false);
    expect(is('{"e":"aggTrade"}')).toBe(false);
  });
});
