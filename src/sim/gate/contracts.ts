import { decimalsOf, formatScaled, parseScaled } from '../../core/decimal.js';
import { Instrument, type InstrumentSpec } from '../instruments.js';
import { trim } from './json.js';

/**
 * A Gate USDT-settled perpetual as the simulator defines it. Sizes are integer contracts; one contract
 * is `quantoMultiplier` of the base currency. The core works in base-asset steps, so a contract is
 * mapped to exactly one step (stepSize = quanto multiplier): notional, PnL, fees and margin then come
 * out right in USDT without the core knowing about contracts.
 */
export interface GateContractSpec {
  /** Upper-case with underscore: `BTC_USDT`. */
  name: string;
  /** Base currency per contract ("0.0001" for BTC_USDT). */
  quantoMultiplier: string;
  /** Price tick ("0.1"). */
  orderPriceRound: string;
  markPriceRound: string;
  orderSizeMin: number;
  orderSizeMax: number;
  leverageMax: number;
  /** |price - mark| <= mark x this (decimal). */
  orderPriceDeviate: string;
  /** Starting price of the synthetic market. */
  initialPrice: string;
  /** Typical size of one book level, in contracts. */
  typicalLevelContracts: number;
}

/** Values close to the real contracts (fixtures contracts.json, 2023; prices of 2025). */
export const DEFAULT_GATE_CONTRACTS: Readonly<Record<string, GateContractSpec>> = {
  BTC_USDT: {
    name: 'BTC_USDT',
    quantoMultiplier: '0.0001',
    orderPriceRound: '0.1',
    markPriceRound: '0.01',
    orderSizeMin: 1,
    orderSizeMax: 1_000_000,
    leverageMax: 100,
    orderPriceDeviate: '0.5',
    initialPrice: '100000',
    typicalLevelContracts: 6000,
  },
  ETH_USDT: {
    name: 'ETH_USDT',
    quantoMultiplier: '0.01',
    orderPriceRound: '0.05',
    markPriceRound: '0.01',
    orderSizeMin: 1,
    orderSizeMax: 1_000_000,
    leverageMax: 100,
    orderPriceDeviate: '0.5',
    initialPrice: '3500',
    typicalLevelContracts: 800,
  },
};

const NAME_RE = /^[A-Z0-9]{1,20}_USDT$/;

/** A contract: its Gate spec and the core instrument (one step = one contract). */
export class GateContract {
  readonly name: string;
  readonly base: string;
  /** Price deviation bound in millionths. */
  readonly deviatePpm: number;

  constructor(
    readonly spec: GateContractSpec,
    readonly inst: Instrument,
  ) {
    this.name = spec.name;
    this.base = spec.name.slice(0, spec.name.indexOf('_'));
    const d = parseScaled(spec.orderPriceDeviate, 6);
    if (typeof d !== 'number' || d <= 0) throw new Error(`gate contract ${spec.name}: bad orderPriceDeviate`);
    this.deviatePpm = d;
  }

  get idx(): number {
    return this.inst.idx;
  }

  /** Trimmed price string of a price in ticks ("100000.1", "93000"). */
  px(ticks: number): string {
    return trim(this.inst.priceStr(ticks));
  }

  /** Base amount of `contracts` as a trimmed decimal ("0.0003"). */
  baseAmount(contracts: number): string {
    return trim(this.inst.qtyStr(contracts));
  }
}

/** Contracts from names (built-ins) and/or full specs, in the order given. Default BTC_USDT, ETH_USDT. */
export function resolveContracts(list: ReadonlyArray<string | GateContractSpec> | undefined): GateContract[] {
  const items = list && list.length > 0 ? list : ['BTC_USDT', 'ETH_USDT'];
  const seen = new Set<string>();
  return items.map((it, idx) => {
    const spec = typeof it === 'string' ? DEFAULT_GATE_CONTRACTS[it.toUpperCase()] : it;
    if (!spec) throw new Error(`unknown gate contract "${String(it)}": pass a GateContractSpec or one of ${Object.keys(DEFAULT_GATE_CONTRACTS).join(', ')}`);
    if (!NAME_RE.test(spec.name)) throw new Error(`bad gate contract name "${spec.name}" (want e.g. BTC_USDT)`);
    if (seen.has(spec.name)) throw new Error(`duplicate gate contract "${spec.name}"`);
    if (!Number.isSafeInteger(spec.orderSizeMin) || spec.orderSizeMin < 1 || !Number.isSafeInteger(spec.orderSizeMax) || spec.orderSizeMax < spec.orderSizeMin) {
      throw new Error(`gate contract ${spec.name}: bad order size limits`);
    }
    seen.add(spec.name);
    return new GateContract(spec, new Instrument(idx, instrumentSpec(spec)));
  });
}

function instrumentSpec(s: GateContractSpec): InstrumentSpec {
  const qd = decimalsOf(s.quantoMultiplier);
  const step = parseScaled(s.quantoMultiplier, qd);
  if (typeof step !== 'number' || step <= 0) throw new Error(`gate contract ${s.name}: bad quantoMultiplier`);
  const contracts = (n: number): string => formatScaled(n * step, qd);
  const pd = decimalsOf(s.orderPriceRound);
  return {
    symbol: s.name,
    baseAsset: s.name.slice(0, s.name.indexOf('_')),
    quoteAsset: 'USDT',
    tickSize: s.orderPriceRound,
    stepSize: s.quantoMultiplier,
    minPrice: s.orderPriceRound,
    // No price cap on Gate (the deviation band applies instead): a bound far above any synthetic price.
    maxPrice: formatScaled(10 ** Math.min(15 - pd, 12), 0),
    minQty: contracts(s.orderSizeMin),
    maxQty: contracts(s.orderSizeMax),
    minNotional: '0',
    initialPrice: s.initialPrice,
    typicalLevelQty: contracts(Math.max(1, s.typicalLevelContracts)),
  };
}
