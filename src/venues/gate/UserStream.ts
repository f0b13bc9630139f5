import type { SymbolRegistry } from '../../core/SymbolRegistry.js';
import { WsClient, type WsClientOptions, type WsHandler } from '../../net/WsClient.js';
import { AU, AccountUpdateReason, ExecFlag, ExecType, OrderOrigin, OrderStatus, RP, RecordType, RejectReason, REPORT_MSG_MAX, W, packHeader } from '../../ring/layout.js';
import type { SlotWriter } from '../../ring/SlotWriter.js';
import { GateLeg, checkGatePrefix, parseGateClientId } from './clientId.js';
import { decodeGateControl, gatePrivateSubscribeMessage } from './control.js';
import { gateNum, gateOrderOutcome, type GateOrderOutcome } from './orderState.js';
import { parseLossless } from './RestClient.js';

/**
 * Gate private channels (protocols.md §2.6) as ring-C records, the counterpart of Binance's UserDataStream:
 * `futures.orders`, `futures.usertrades` and `futures.positions` subscribed with `auth` on `/v4/ws/usdt`
 * (payload `[userId, "!all"]`), again after every reconnect.
 *
 * Records (all flagged ExecFlag.Stream, as the transport's own reports carry flags 0):
 * - usertrades -> ExecReport Fill per trade: LAST_QTY = |size| (contracts), LAST_PRICE, FEE, IS_MAKER (role),
 *   CUM_QTY / AVG_PRICE over the intent's fills so far (both legs of an IOC-with-fallback intent), STATUS
 *   Filled once CUM_QTY reaches the size of the intent's first order, else PartiallyFilled. Fills are
 *   de-duplicated by trade id (a re-sent push is dropped and counted).
 * - orders -> Ack (New) when an order of ours opens (`finish_as` "_new"); when it finishes: Filled as a Fill
 *   record flagged Dup (apply STATUS / CUM_QTY / AVG_PRICE, do not add LAST_QTY: the trades did), Canceled or
 *   Expired (`finish_as` ioc). The IOC leg of a fallback intent ends no intent: its Expired / Canceled is
 *   not written (the market leg follows). Partial-fill order updates write nothing (the trades do).
 * - positions -> AccountUpdate: POSITION_AMT = signed size (contracts), ENTRY_PRICE, REALIZED_PNL; UNREALIZED_PNL
 *   NaN (not in the push); HAS_POSITION 1, HAS_BALANCE 0; EVENT_TIME = time_ms.
 *
 * Our orders are known by `text` = `t-<prefix><intentId>[-i|-m]`; any other text is foreign (INTENT_ID -1,
 * flag Foreign, header count OrderOrigin: Liquidation for `liquidation`/`liq-*`, Adl for
 * `auto_deleveraging`, else Manual).
 *
 * Order ids: Gate's exceed 2^53, and RP.ORDER_ID is a float64. The exact id is the report MESSAGE (decimal
 * digits, MSG_LEN bytes at RP.MSG) of every record that names an order; for a foreign order the message is
 * `<id> <text>`. RP.ORDER_ID holds the nearest double, a hint only. `orderIdOf(intentId)` gives the exact id of
 * an intent's latest order as text.
 *
 * Cold path: a few frames per order; frames are parsed with JSON.parse (long integers kept as text).
 */

export interface GateUserStreamOptions {
  /** `ws://host:port/v4/ws/usdt` or `wss://fx-ws.gateio.ws/v4/ws/usdt` */
  wsUrl: string;
  apiKey: string;
  apiSecret: string;
  /** the account's user id (a placeholder for Gate, still required in the payload) */
  userId: string | number;
  /** the client id prefix the order transport uses */
  clientIdPrefix: string;
  /** ns since the process epoch (RECV/PUB stamps) */
  now: () => number;
  /** wall clock in ms (the `time` of subscribe requests) */
  wallMs?: () => number;
  ws?: WsClientOptions;
  onEvent?: (level: 'info' | 'warn', msg: string) => void;
}

export interface GateUserStreamCounters {
  frames: number;
  orderUpdates: number;
  trades: number;
  duplicateTrades: number;
  positions: number;
  records: number;
  foreign: number;
  malformed: number;
  subscribeErrors: number;
  /** records that waited for room in ring C */
  backlogged: number;
}

interface IntentState {
  sym: number;
  side: number;
  /** |size| of the intent's first order (0 until an order push names it) */
  size: number;
  cum: number;
  notional: number;
  orderId: string;
}

const CHANNELS = ['futures.orders', 'futures.usertrades', 'futures.positions'] as const;
const TRADE_MEMORY = 4096;
const UTF8 = new TextEncoder();

export class GateUserStream implements WsHandler {
  readonly counters: GateUserStreamCounters = { frames: 0, orderUpdates: 0, trades: 0, duplicateTrades: 0, positions: 0, records: 0, foreign: 0, malformed: 0, subscribeErrors: 0, backlogged: 0 };
  readonly ws: WsClient;
  private readonly intents = new Map<number, IntentState>();
  private readonly seenTrades = new Set<string>();
  private readonly tradeOrder: string[] = [];
  private readonly backlog: Float64Array[] = [];
  private readonly scratch: Float64Array;
  private readonly scratchI32: Int32Array;
  private readonly scratchU8: Uint8Array;
  private readonly outcome: GateOrderOutcome = { status: OrderStatus.New, execType: ExecType.Ack, cumQty: 0, avgPrice: NaN };
  private retryTimer: NodeJS.Timeout | null = null;
  private subscribedAcks = 0;

  constructor(
    private readonly symbols: SymbolRegistry,
    private readonly out: SlotWriter,
    private readonly opts: GateUserStreamOptions,
  ) {
    checkGatePrefix(opts.clientIdPrefix);
    this.ws = new WsClient(opts.wsUrl, this, opts.ws ?? {});
    this.scratch = new Float64Array(out.slotWords);
    this.scratchI32 = new Int32Array(this.scratch.buffer);
    this.scratchU8 = new Uint8Array(this.scratch.buffer);
  }

  /** All three channels acknowledged on the current connection. */
  get subscribed(): boolean {
    return this.subscribedAcks >= CHANNELS.length;
  }

  start(): void {
    this.ws.connect();
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ws.close(1000);
  }

  /** The exact venue id (decimal text) of the intent's latest order, '' when none was seen. */
  orderIdOf(intentId: number): string {
    return this.intents.get(intentId)?.orderId ?? '';
  }

  // ------------------------------------------------------------------ WsHandler

  onOpen(): void {
    this.subscribedAcks = 0;
    const t = Math.floor((this.opts.wallMs ?? Date.now)() / 1000);
    for (const ch of CHANNELS) this.ws.send(gatePrivateSubscribeMessage(ch, [String(this.opts.userId), '!all'], t, this.opts.apiKey, this.opts.apiSecret));
    this.opts.onEvent?.('info', `gate private channels: connected ${this.opts.wsUrl}`);
  }

  onClose(code: number, reason: string, willReconnect: boolean): void {
    this.subscribedAcks = 0;
    this.opts.onEvent?.('warn', `gate private channels closed: ${code} ${reason}${willReconnect ? ', reconnecting' : ''}`);
  }

  onMessage(buf: Buffer, start: number, end: number, recvTs: number): void {
    this.handle(buf.toString('utf8', start, end), recvTs);
  }

  /** One frame's text (exposed for tests and replays). */
  handle(text: string, recvTs: number): void {
    this.counters.frames++;
    this.flush();
    let m: Record<string, unknown>;
    try {
      const v = parseLossless(text);
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      m = v as Record<string, unknown>;
    } catch {
      this.counters.malformed++;
      return;
    }
    const event = m['event'];
    if (event === 'subscribe' || event === 'unsubscribe') {
      const r = decodeGateControl(text);
      if (r.kind === 'ack') this.subscribedAcks++;
      else if (r.kind === 'error') {
        this.counters.subscribeErrors++;
        this.opts.onEvent?.('warn', `gate private subscribe ${r.channel}: code ${r.code} ${r.message}`);
      }
      return;
    }
    if (event !== 'update') return;
    const list = Array.isArray(m['result']) ? (m['result'] as unknown[]) : [m['result']];
    const ch = m['channel'];
    for (const item of list) {
      if (typeof item !== 'object' || item === null) {
        this.counters.malformed++;
        continue;
      }
      const o = item as Record<string, unknown>;
      if (ch === 'futures.usertrades') this.onTrade(o, recvTs);
      else if (ch === 'futures.orders') this.onOrder(o, recvTs);
      else if (ch === 'futures.positions') this.onPosition(o, recvTs);
    }
  }

  // ------------------------------------------------------------------ channels

  private onOrder(o: Record<string, unknown>, recvTs: number): void {
    this.counters.orderUpdates++;
    const sym = this.symbols.id(String(o['contract'] ?? ''));
    const size = gateNum(o['size']);
    if (sym < 0 || !(size === size)) {
      this.counters.malformed++;
      return;
    }
    const id = String(o['id'] ?? '');
    const text = String(o['text'] ?? '');
    const { intentId, leg } = parseGateClientId(text, this.opts.clientIdPrefix);
    const side = size > 0 ? 1 : -1;
    const finishAs = String(o['finish_as'] ?? '');
    const st = String(o['status'] ?? '');
    const r = gateOrderOutcome(st, finishAs, size, gateNum(o['left']), gateNum(o['fill_price']), this.outcome);
    const venueTime = gateNum(o['finish_time_ms'] ?? o['create_time_ms']);
    if (intentId < 0) {
      this.counters.foreign++;
      this.write(sym, -1, side, recvTs, r.status, r.execType, 0, 0, r.cumQty, r.avgPrice, 0, 0, id, venueTime, ExecFlag.Foreign, originOf(text), `${id} ${text}`);
      return;
    }
    const s = this.intent(intentId, sym, side);
    s.orderId = id;
    if (leg !== GateLeg.Market && s.size === 0) s.size = Math.abs(size);
    if (st === 'open') {
      if (finishAs === '_new' || r.cumQty === 0) this.write(sym, intentId, side, recvTs, OrderStatus.New, ExecType.Ack, 0, 0, s.cum, s.cum > 0 ? s.notional / s.cum : NaN, 0, 0, id, venueTime, 0, OrderOrigin.Ours, id);
      return;
    }
    if (r.status === OrderStatus.Filled) {
      if (leg === GateLeg.Ioc) return; // the IOC leg filled in full: its trades said so; nothing else follows
      this.write(sym, intentId, side, recvTs, OrderStatus.Filled, ExecType.Fill, 0, 0, Math.max(s.cum, r.cumQty), s.cum > 0 ? s.notional / s.cum : r.avgPrice, 0, 0, id, venueTime, ExecFlag.Dup, OrderOrigin.Ours, id);
      this.intents.delete(intentId);
      return;
    }
    if (leg === GateLeg.Ioc) return; // the market leg carries the intent on
    this.write(sym, intentId, side, recvTs, r.status, r.execType, 0, 0, s.cum, s.cum > 0 ? s.notional / s.cum : NaN, 0, 0, id, venueTime, 0, OrderOrigin.Ours, id);
    this.intents.delete(intentId);
  }

  private onTrade(o: Record<string, unknown>, recvTs: number): void {
    const tid = String(o['id'] ?? '');
    if (this.seenTrades.has(tid)) {
      this.counters.duplicateTrades++;
      return;
    }
    this.remember(tid);
    this.counters.trades++;
    const sym = this.symbols.id(String(o['contract'] ?? ''));
    const size = gateNum(o['size']);
    const price = gateNum(o['price']);
    if (sym < 0 || !(size === size) || !(price === price)) {
      this.counters.malformed++;
      return;
    }
    const side = size > 0 ? 1 : -1;
    const qty = Math.abs(size);
    const orderId = String(o['order_id'] ?? '');
    const text = String(o['text'] ?? '');
    const fee = gateNum(o['fee']);
    const maker = o['role'] === 'maker' ? 1 : 0;
    const venueTime = gateNum(o['create_time_ms']);
    const { intentId } = parseGateClientId(text, this.opts.clientIdPrefix);
    if (intentId < 0) {
      this.counters.foreign++;
      this.write(sym, -1, side, recvTs, OrderStatus.PartiallyFilled, ExecType.Fill, qty, price, NaN, NaN, fee, maker, orderId, venueTime, ExecFlag.Foreign, originOf(text), `${orderId} ${text}`);
      return;
    }
    const s = this.intent(intentId, sym, side);
    s.cum += qty;
    s.notional += qty * price;
    s.orderId = orderId;
    const done = s.size > 0 && s.cum >= s.size;
    this.write(sym, intentId, side, recvTs, done ? OrderStatus.Filled : OrderStatus.PartiallyFilled, ExecType.Fill, qty, price, s.cum, s.notional / s.cum, fee === fee ? fee : 0, maker, orderId, venueTime, 0, OrderOrigin.Ours, orderId);
  }

  private onPosition(o: Record<string, unknown>, recvTs: number): void {
    this.counters.positions++;
    const sym = this.symbols.id(String(o['contract'] ?? ''));
    const size = gateNum(o['size']);
    if (sym < 0 || !(size === size)) {
      this.counters.malformed++;
      return;
    }
    const f = this.scratch;
    f.fill(0);
    this.scratchI32[0] = packHeader(RecordType.AccountUpdate, 0, 0);
    this.scratchI32[1] = sym;
    f[W.RECV_TS] = recvTs;
    f[AU.EVENT_TIME] = gateNum(o['time_ms']);
    f[AU.POSITION_AMT] = size;
    f[AU.ENTRY_PRICE] = gateNum(o['entry_price']);
    f[AU.BREAK_EVEN_PRICE] = NaN;
    f[AU.UNREALIZED_PNL] = NaN;
    f[AU.REALIZED_PNL] = gateNum(o['realised_pnl']);
    f[AU.REASON] = AccountUpdateReason.Order;
    f[AU.HAS_BALANCE] = 0;
    f[AU.HAS_POSITION] = 1;
    this.commitScratch();
  }

  // ------------------------------------------------------------------ ring C

  private intent(intentId: number, sym: number, side: number): IntentState {
    let s = this.intents.get(intentId);
    if (!s) this.intents.set(intentId, (s = { sym, side, size: 0, cum: 0, notional: 0, orderId: '' }));
    return s;
  }

  private remember(tid: string): void {
    this.seenTrades.add(tid);
    this.tradeOrder.push(tid);
    if (this.tradeOrder.length > TRADE_MEMORY) this.seenTrades.delete(this.tradeOrder.shift()!);
  }

  private write(
    sym: number, intentId: number, side: number, recvTs: number, status: OrderStatus, execType: ExecType, lastQty: number, lastPrice: number,
    cumQty: number, avgPrice: number, fee: number, maker: number, orderId: string, venueTime: number, flags: number, origin: OrderOrigin, message: string,
  ): void {
    const f = this.scratch;
    f.fill(0);
    this.scratchI32[0] = packHeader(RecordType.ExecReport, flags | ExecFlag.Stream, origin);
    this.scratchI32[1] = sym;
    f[W.RECV_TS] = recvTs;
    f[RP.INTENT_ID] = intentId;
    f[RP.STATUS] = status;
    f[RP.EXEC_TYPE] = execType;
    f[RP.SIDE] = side;
    f[RP.LAST_QTY] = lastQty;
    f[RP.LAST_PRICE] = lastPrice;
    f[RP.CUM_QTY] = cumQty;
    f[RP.AVG_PRICE] = avgPrice;
    f[RP.FEE] = fee;
    f[RP.ORDER_ID] = orderId === '' ? 0 : Number(orderId);
    f[RP.ACK_TS] = recvTs;
    f[RP.VENUE_TIME] = venueTime === venueTime ? venueTime : 0;
    f[RP.IS_MAKER] = maker;
    f[RP.REASON] = status === OrderStatus.Rejected ? RejectReason.Venue : RejectReason.None;
    const m0 = RP.MSG * 8;
    f[RP.MSG_LEN] = UTF8.encodeInto(message, this.scratchU8.subarray(m0, m0 + REPORT_MSG_MAX)).written;
    this.commitScratch();
  }

  /** Into ring C, behind anything still waiting; a full ring keeps the record (in order) and retries. */
  private commitScratch(): void {
    this.counters.records++;
    this.scratch[W.PUB_TS] = this.opts.now();
    if (this.backlog.length === 0 && this.tryWrite(this.scratch)) return;
    this.counters.backlogged++;
    this.backlog.push(this.scratch.slice());
    this.scheduleRetry();
  }

  private tryWrite(rec: Float64Array): boolean {
    const base = this.out.claim();
    if (base < 0) return false;
    this.out.f64.set(rec, base);
    this.out.commit();
    return true;
  }

  /** Writes what waited for room; returns how many still wait. */
  flush(): number {
    while (this.backlog.length > 0 && this.tryWrite(this.backlog[0]!)) this.backlog.shift();
    return this.backlog.length;
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.flush() > 0) this.scheduleRetry();
    }, 1);
  }
}

function originOf(text: string): OrderOrigin {
  if (text === 'liquidation' || text.startsWith('liq-')) return OrderOrigin.Liquidation;
  if (text === 'auto_deleveraging') return OrderOrigin.Adl;
  return OrderOrigin.Manual;
}
