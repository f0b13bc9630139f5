import { formatRatio, formatScaled, formatScaledBig } from '../../core/decimal.js';
import type { Instrument } from '../instruments.js';
import type { AlgoOrder, AssetView, PositionView, SimAccount, SimOrder, VenueCore } from '../Venue.js';

/*
 * Binance USD-M account shapes (REST and WebSocket API): positionRisk v2/v3, account v2/v3, balance
 * v2/v3, leverage, algo orders. Key order follows real responses (fixtures positionRisk_v3.json,
 * account_v2.json) or the venue's docs where no capture exists. Money has 8 decimals; some fields print
 * a bare "0" when zero, as the venue does.
 */

/** 8-decimal money string. */
export function m8(v: bigint): string {
  return formatScaledBig(v, 8);
}

/** 8-decimal money string, or "0" when zero. */
export function m8z(v: bigint): string {
  return v === 0n ? '0' : formatScaledBig(v, 8);
}

/** Money without trailing zeros ("183.66307", "200", "0"). */
export function mTrim(v: bigint): string {
  return formatRatio(v, 1n, 8, 0, 8);
}

/**
 * One bracket table for every symbol (BTCUSDT-like): max initial leverage, notional cap, maintenance
 * rate in millionths (the first is the venue core's rate). A coarse stand-in for the venue's tables.
 */
const BRACKETS: ReadonlyArray<readonly [number, number, number]> = [
  [125, 50_000, 0],
  [100, 250_000, 5000],
  [75, 1_000_000, 6500],
  [50, 10_000_000, 10_000],
  [25, 20_000_000, 20_000],
  [20, 50_000_000, 25_000],
  [10, 100_000_000, 50_000],
  [5, 200_000_000, 100_000],
];

/** maxNotionalValue for a leverage: the cap of the last bracket that allows it. */
export function maxNotionalFor(leverage: number): string {
  let cap = BRACKETS[0]![1];
  for (const [lev, c] of BRACKETS) if (leverage <= lev) cap = c;
  return String(cap);
}

/** `GET /fapi/v1/leverageBracket` item. */
export function leverageBrackets(symbol: string, firstMmrPpm: number): Record<string, unknown> {
  let floor = 0;
  let prevMmr = 0;
  let cum = 0;
  const brackets = BRACKETS.map(([lev, cap, mmrPpm], i) => {
    const mmr = i === 0 ? firstMmrPpm : Math.max(mmrPpm, firstMmrPpm);
    // cum: the maintenance amount that keeps the tiered formula continuous at the bracket floor.
    cum += (floor * (mmr - prevMmr)) / 1e6;
    const b = { bracket: i + 1, initialLeverage: lev, notionalCap: cap, notionalFloor: floor, maintMarginRatio: mmr / 1e6, cum };
    floor = cap;
    prevMmr = mmr;
    return b;
  });
  return { symbol, brackets };
}

/** `GET /fapi/v3/positionRisk` item (only symbols with a position or open orders are listed). */
export function positionRiskV3(v: PositionView): Record<string, unknown> {
  const inst = v.inst;
  return {
    symbol: inst.symbol,
    positionSide: 'BOTH',
    positionAmt: inst.qtyStr(v.qty),
    entryPrice: v.entryPrice,
    breakEvenPrice: v.breakEvenPrice,
    markPrice: formatScaled(v.mark8, 8),
    unRealizedProfit: m8(v.unrealized),
    liquidationPrice: v.liquidationPrice,
    isolatedMargin: '0',
    notional: m8z(v.notional),
    marginAsset: inst.spec.quoteAsset,
    isolatedWallet: '0',
    initialMargin: m8z(v.initialMargin + v.openOrderInitialMargin),
    maintMargin: m8z(v.maintMargin),
    positionInitialMargin: m8z(v.initialMargin),
    openOrderInitialMargin: m8z(v.openOrderInitialMargin),
    adl: v.qty === 0 ? 0 : 2,
    bidNotional: m8z(v.bidNotional),
    askNotional: m8z(v.askNotional),
    updateTime: v.updateTime,
  };
}

/** `GET /fapi/v2/positionRisk` item (one per symbol in one-way mode). */
export function positionRiskV2(v: PositionView): Record<string, unknown> {
  const inst = v.inst;
  return {
    symbol: inst.symbol,
    positionAmt: inst.qtyStr(v.qty),
    entryPrice: v.entryPrice,
    breakEvenPrice: v.breakEvenPrice,
    markPrice: formatScaled(v.mark8, 8),
    unRealizedProfit: m8(v.unrealized),
    liquidationPrice: v.liquidationPrice,
    leverage: String(v.leverage),
    maxNotionalValue: maxNotionalFor(v.leverage),
    marginType: 'cross',
    isolatedMargin: m8(0n),
    isAutoAddMargin: 'false',
    positionSide: 'BOTH',
    notional: m8z(v.notional),
    isolatedWallet: '0',
    updateTime: v.updateTime,
  };
}

function assetTotals(a: AssetView | undefined): Record<string, unknown> {
  const z = 0n;
  return {
    totalInitialMargin: m8(a?.initialMargin ?? z),
    totalMaintMargin: m8(a?.maintMargin ?? z),
    totalWalletBalance: m8(a?.wallet ?? z),
    totalUnrealizedProfit: m8(a?.unrealized ?? z),
    totalMarginBalance: m8(a?.marginBalance ?? z),
    totalPositionInitialMargin: m8(a?.positionInitialMargin ?? z),
    totalOpenOrderInitialMargin: m8(a?.openOrderInitialMargin ?? z),
    totalCrossWalletBalance: m8(a?.wallet ?? z),
    totalCrossUnPnl: m8(a?.unrealized ?? z),
    availableBalance: m8(a?.available ?? z),
    maxWithdrawAmount: m8(a?.maxWithdraw ?? z),
  };
}

/** `assets[]` item of the account endpoints (v2 adds marginAvailable). */
function assetItem(a: AssetView, v2: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    asset: a.asset,
    walletBalance: m8(a.wallet),
    unrealizedProfit: m8(a.unrealized),
    marginBalance: m8(a.marginBalance),
    maintMargin: m8(a.maintMargin),
    initialMargin: m8(a.initialMargin),
    positionInitialMargin: m8(a.positionInitialMargin),
    openOrderInitialMargin: m8(a.openOrderInitialMargin),
    maxWithdrawAmount: m8(a.maxWithdraw),
    crossWalletBalance: m8(a.wallet),
    crossUnPnl: m8(a.unrealized),
    availableBalance: m8(a.available),
  };
  if (v2) out['marginAvailable'] = true;
  out['updateTime'] = a.updateTime;
  return out;
}

/** `GET /fapi/v2/account` (v2: every symbol in positions) or `/fapi/v3/account` (only active ones). */
export function accountInfo(core: VenueCore, acc: SimAccount, v2: boolean): Record<string, unknown> {
  const assets = core.marginAssets().map((a) => core.assetView(acc, a));
  const usdt = assets.find((a) => a.asset === 'USDT') ?? assets[0];
  const positions: Array<Record<string, unknown>> = [];
  for (const inst of core.market.instruments) {
    const v = core.positionView(acc, inst.idx);
    if (v2) {
      positions.push({
        symbol: inst.symbol,
        initialMargin: m8z(v.initialMargin + v.openOrderInitialMargin),
        maintMargin: m8z(v.maintMargin),
        unrealizedProfit: m8(v.unrealized),
        positionInitialMargin: m8z(v.initialMargin),
        openOrderInitialMargin: m8z(v.openOrderInitialMargin),
        leverage: String(v.leverage),
        isolated: false,
        entryPrice: v.entryPrice,
        breakEvenPrice: v.breakEvenPrice,
        maxNotional: maxNotionalFor(v.leverage),
        bidNotional: m8z(v.bidNotional),
        askNotional: m8z(v.askNotional),
        positionSide: 'BOTH',
        positionAmt: inst.qtyStr(v.qty),
        updateTime: v.updateTime,
      });
    } else if (v.qty !== 0 || v.hasOpenOrders) {
      positions.push({
        symbol: inst.symbol,
        positionSide: 'BOTH',
        positionAmt: inst.qtyStr(v.qty),
        unrealizedProfit: m8(v.unrealized),
        isolatedMargin: m8(0n),
        notional: m8z(v.notional),
        isolatedWallet: '0',
        initialMargin: m8z(v.initialMargin + v.openOrderInitialMargin),
        maintMargin: m8z(v.maintMargin),
        updateTime: v.updateTime,
      });
    }
  }
  const head: Record<string, unknown> = v2
    ? { feeTier: 0, canTrade: true, canDeposit: true, canWithdraw: true, tradeGroupId: -1, updateTime: 0, multiAssetsMargin: false }
    : {};
  return { ...head, ...assetTotals(usdt), assets: assets.map((a) => assetItem(a, v2)), positions };
}

/** `GET /fapi/v2|v3/balance` items. */
export function balances(core: VenueCore, acc: SimAccount): Array<Record<string, unknown>> {
  return core.marginAssets().map((asset) => {
    const a = core.assetView(acc, asset);
    return {
      accountAlias: accountAlias(acc),
      asset,
      balance: m8(a.wallet),
      crossWalletBalance: m8(a.wallet),
      crossUnPnl: m8(a.unrealized),
      availableBalance: m8(a.available),
      maxWithdrawAmount: m8(a.maxWithdraw),
      marginAvailable: true,
      updateTime: a.updateTime,
    };
  });
}

/** A short stable alias per account (the venue's is 4 letters, e.g. "SgsR"). */
export function accountAlias(acc: SimAccount): string {
  let h = 0;
  for (let i = 0; i < acc.id.length; i++) h = (h * 31 + acc.id.charCodeAt(i)) >>> 0;
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < 4; i++) {
    s += A[h % 52];
    h = Math.floor(h / 52) + 7 * (i + 1);
  }
  return s;
}

/**
 * The algo order object of `POST/GET /fapi/v1/algoOrder` and `openAlgoOrders` (ccxt's recorded shape,
 * with `actualOrderId`/`actualPrice` once triggered, as in the docs-derived fixture).
 */
export function algoObject(core: VenueCore, acc: SimAccount, a: AlgoOrder): Record<string, unknown> {
  const inst = a.inst;
  const limit = a.type === 'STOP' || a.type === 'TAKE_PROFIT';
  const out: Record<string, unknown> = {
    algoId: a.algoId,
    clientAlgoId: a.clientAlgoId,
    algoType: 'CONDITIONAL',
    orderType: a.type,
    symbol: inst.symbol,
    side: a.side,
    positionSide: a.positionSide,
    timeInForce: a.timeInForce,
    quantity: inst.qtyStr(a.qty),
    algoStatus: a.status,
  };
  if (a.actualOrderId !== 0) {
    const o = core.algoOrderOf(acc, a);
    out['actualOrderId'] = String(a.actualOrderId);
    out['actualPrice'] = o && o.executedQty > 0 ? avgPrice(o) : formatScaled(0, inst.priceDecimals);
  }
  out['triggerPrice'] = a.triggerPrice > 0 ? inst.priceStr(a.triggerPrice) : '0';
  out['price'] = limit ? inst.priceStr(a.price) : '0';
  out['icebergQuantity'] = null;
  out['selfTradePreventionMode'] = 'NONE';
  out['workingType'] = a.workingType;
  out['priceMatch'] = 'NONE';
  out['closePosition'] = a.closePosition;
  out['priceProtect'] = a.priceProtect;
  out['reduceOnly'] = a.reduceOnly;
  if (a.type === 'TRAILING_STOP_MARKET') {
    out['activatePrice'] = a.activatePrice > 0 ? inst.priceStr(a.activatePrice) : '0';
    out['callbackRate'] = formatScaled(a.callbackRate, 1);
  }
  out['createTime'] = a.createTime;
  out['updateTime'] = a.updateTime;
  out['triggerTime'] = a.triggerTime;
  out['goodTillDate'] = a.goodTillDate;
  return out;
}

function avgPrice(o: SimOrder): string {
  const inst: Instrument = o.inst;
  return formatRatio(o.cumQuote, BigInt(o.executedQty * inst.stepUnits), inst.priceDecimals, inst.priceDecimals, inst.priceDecimals);
}
