import { decimalsOf, formatScaled, parseScaled } from '../core/decimal.js';

/**
 * A simulated instrument as a venue would describe it (decimal strings, as in Binance exchangeInfo).
 * Prices are kept as integer ticks and quantities as integer steps everywhere in the simulator.
 */
export interface InstrumentSpec {
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
  /** Tick size as printed by the venue; its decimals (trailing zeros included) are the price decimals. */
  tickSize: string;
  /** Step size; its decimals are the quantity decimals. */
  stepSize: string;
  minPrice: string;
  maxPrice: string;
  minQty: string;
  maxQty: string;
  /** MARKET_LOT_SIZE maxQty (defaults to maxQty). */
  marketMaxQty?: string;
  /** MIN_NOTIONAL filter, in quote asset. */
  minNotional: string;
  /** Starting price of the synthetic market (any decimal; rounded to the tick). */
  initialPrice: string;
  /** Typical quantity resting at one book level (decimal, base asset). */
  typicalLevelQty: string;
}

/** Real-ish instrument definitions (values close to Binance USD-M futures in 2025). */
export const DEFAULT_INSTRUMENT_SPECS: Readonly<Record<string, InstrumentSpec>> = {
  BTCUSDT: {
    symbol: 'BTCUSDT',
    baseAsset: 'BTC',
    quoteAsset: 'USDT',
    tickSize: '0.10',
    stepSize: '0.001',
    minPrice: '261.10',
    maxPrice: '809484',
    minQty: '0.001',
    maxQty: '1000',
    marketMaxQty: '120',
    minNotional: '100',
    initialPrice: '100000.00',
    typicalLevelQty: '0.8',
  },
  ETHUSDT: {
    symbol: 'ETHUSDT',
    baseAsset: 'ETH',
    quoteAsset: 'USDT',
    tickSize: '0.01',
    stepSize: '0.001',
    minPrice: '39.86',
    maxPrice: '306177',
    minQty: '0.001',
    maxQty: '10000',
    marketMaxQty: '2000',
    minNotional: '20',
    initialPrice: '3500.00',
    typicalLevelQty: '12',
  },
  SOLUSDT: {
    symbol: 'SOLUSDT',
    baseAsset: 'SOL',
    quoteAsset: 'USDT',
    tickSize: '0.0100',
    stepSize: '1',
    minPrice: '0.4200',
    maxPrice: '6857',
    minQty: '1',
    maxQty: '1000000',
    marketMaxQty: '5000',
    minNotional: '5',
    initialPrice: '150.0000',
    typicalLevelQty: '150',
  },
  XRPUSDT: {
    symbol: 'XRPUSDT',
    baseAsset: 'XRP',
    quoteAsset: 'USDT',
    tickSize: '0.0001',
    stepSize: '0.1',
    minPrice: '0.0143',
    maxPrice: '100000',
    minQty: '0.1',
    maxQty: '10000000',
    marketMaxQty: '2000000',
    minNotional: '5',
    initialPrice: '2.5000',
    typicalLevelQty: '15000',
  },
};

/** An instrument with its derived integer units. Built once at start; indexed by `idx`. */
export class Instrument {
  readonly symbol: string;
  /** Lower-case symbol, as in stream names. */
  readonly lower: string;
  readonly priceDecimals: number;
  readonly qtyDecimals: number;
  /** One tick in price units (10^-priceDecimals). */
  readonly tickUnits: number;
  /** One step in quantity units (10^-qtyDecimals). */
  readonly stepUnits: number;
  readonly minPriceUnits: number;
  readonly maxPriceUnits: number;
  readonly minQtySteps: number;
  readonly maxQtySteps: number;
  readonly marketMaxQtySteps: number;
  /** Min notional in units of 10^-(priceDecimals + qtyDecimals) (price units x quantity units). */
  readonly minNotionalQuote: bigint;
  readonly initialTicks: number;
  readonly typicalLevelSteps: number;

  constructor(
    readonly idx: number,
    readonly spec: InstrumentSpec,
  ) {
    this.symbol = spec.symbol;
    this.lower = spec.symbol.toLowerCase();
    this.priceDecimals = decimalsOf(spec.tickSize);
    this.qtyDecimals = decimalsOf(spec.stepSize);
    this.tickUnits = must(parseScaled(spec.tickSize, this.priceDecimals), 'tickSize', spec);
    this.stepUnits = must(parseScaled(spec.stepSize, this.qtyDecimals), 'stepSize', spec);
    if (this.tickUnits <= 0 || this.stepUnits <= 0) throw new Error(`instrument ${spec.symbol}: tick and step must be > 0`);
    this.minPriceUnits = must(parseScaled(spec.minPrice, this.priceDecimals), 'minPrice', spec);
    this.maxPriceUnits = must(parseScaled(spec.maxPrice, this.priceDecimals), 'maxPrice', spec);
    this.minQtySteps = Math.ceil(must(parseScaled(spec.minQty, this.qtyDecimals), 'minQty', spec) / this.stepUnits);
    this.maxQtySteps = Math.floor(must(parseScaled(spec.maxQty, this.qtyDecimals), 'maxQty', spec) / this.stepUnits);
    this.marketMaxQtySteps = spec.marketMaxQty
      ? Math.floor(must(parseScaled(spec.marketMaxQty, this.qtyDecimals), 'marketMaxQty', spec) / this.stepUnits)
      : this.maxQtySteps;
    const notional = must(parseScaled(spec.minNotional, this.priceDecimals + this.qtyDecimals), 'minNotional', spec);
    this.minNotionalQuote = BigInt(notional);
    // Start price and level size only seed the synthetic market: a float and a rounding are fine here.
    const ip = Number(spec.initialPrice);
    if (!Number.isFinite(ip) || ip <= 0) throw new Error(`instrument ${spec.symbol}: bad initialPrice`);
    this.initialTicks = Math.max(10, Math.round((ip * 10 ** this.priceDecimals) / this.tickUnits));
    const tq = Number(spec.typicalLevelQty);
    if (!Number.isFinite(tq) || tq <= 0) throw new Error(`instrument ${spec.symbol}: bad typicalLevelQty`);
    this.typicalLevelSteps = Math.max(1, Math.round((tq * 10 ** this.qtyDecimals) / this.stepUnits));
  }

  /** Decimal string of a price given in ticks. */
  priceStr(ticks: number): string {
    return formatScaled(ticks * this.tickUnits, this.priceDecimals);
  }

  /** Decimal string of a quantity given in steps. */
  qtyStr(steps: number): string {
    return formatScaled(steps * this.stepUnits, this.qtyDecimals);
  }

  /** Price x quantity in units of 10^-(priceDecimals + qtyDecimals). */
  quote(ticks: number, steps: number): bigint {
    return BigInt(ticks * this.tickUnits) * BigInt(steps * this.stepUnits);
  }
}

function must(v: number | string, field: string, spec: InstrumentSpec): number {
  if (typeof v !== 'number') throw new Error(`instrument ${spec.symbol}: ${field} is not a valid decimal at the instrument's precision`);
  return v;
}

/**
 * Instruments from names (looked up in DEFAULT_INSTRUMENT_SPECS) and/or full specs, in the order given.
 */
export function resolveInstruments(list: ReadonlyArray<string | InstrumentSpec> | undefined): Instrument[] {
  const items = list && list.length > 0 ? list : ['BTCUSDT', 'ETHUSDT'];
  const seen = new Set<string>();
  return items.map((it, idx) => {
    const spec = typeof it === 'string' ? DEFAULT_INSTRUMENT_SPECS[it.toUpperCase()] : it;
    if (!spec) {
      throw new Error(
        `unknown simulator symbol "${String(it)}": pass a full InstrumentSpec or one of ${Object.keys(DEFAULT_INSTRUMENT_SPECS).join(', ')}`,
      );
    }
    if (!/^[A-Z0-9]{2,30}$/.test(spec.symbol)) throw new Error(`bad symbol "${spec.symbol}"`);
    if (seen.has(spec.symbol)) throw new Error(`duplicate symbol "${spec.symbol}"`);
    seen.add(spec.symbol);
    return new Instrument(idx, spec);
  });
}
