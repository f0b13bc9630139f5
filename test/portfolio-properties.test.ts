import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Portfolio } from '../src/portfolio/Portfolio.js';

/** A fill on a step / tick grid (qty 0.001 steps, price 0.5 ticks), as venues report them. */
const fillArb = fc.record({
  side: fc.constantFrom(1, -1),
  qtySteps: fc.integer({ min: 1, max: 5_000 }),
  priceTicks: fc.integer({ min: 180_000, max: 220_000 }),
  fee: fc.option(fc.double({ min: -1, max: 5, noNaN: true }), { nil: undefined }),
  isMaker: fc.boolean(),
  funding: fc.option(fc.double({ min: -2, max: 2, noNaN: true }), { nil: undefined }),
});

const qtyOf = (steps: number) => steps * 0.001;
const priceOf = (ticks: number) => ticks * 0.5;

describe('Portfolio properties', () => {
  it('realised + unrealised - fees + funding equals the cash-flow PnL for any fill sequence', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 180_000, max: 220_000 }), (fills, markTicks) => {
        const pf = new Portfolio(1, { initialCapital: 0 });
        let cash = 0;
        let scale = 0;
        let feeSum = 0;
        let fundingSum = 0;
        let posSteps = 0;
        for (const f of fills) {
          const q = qtyOf(f.qtySteps);
          const p = priceOf(f.priceTicks);
          const before = pf.feesTotal;
          pf.onFill(0, f.side, q, p, f.fee ?? NaN, f.isMaker, NaN);
          feeSum += pf.feesTotal - before;
          cash -= f.side * q * p;
          scale += q * p;
          posSteps += f.side * f.qtySteps;
          if (f.funding !== undefined) {
            pf.onFunding(0, f.funding);
            fundingSum += f.funding;
          }
        }
        const mark = priceOf(markTicks);
        pf.onMarkPrice(0, mark);
        const pos = qtyOf(posSteps);
        expect(pf.position(0)).toBeCloseTo(pos, 9);
        const cashFlowPnl = cash + pos * mark - feeSum + fundingSum;
        const booked = pf.realizedTotal + pf.unrealizedTotal() - pf.feesTotal + pf.fundingTotal;
        expect(Math.abs(booked - cashFlowPnl)).toBeLessThanOrEqual(1e-9 * (scale + 1));
        expect(Math.abs(pf.equity() - cashFlowPnl)).toBeLessThanOrEqual(1e-9 * (scale + 1));
      }),
      { numRuns: 300 },
    );
  });

  it('flipping a position through zero realises the closed part and opens the rest at the fill price', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, -1),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 180_000, max: 220_000 }),
        fc.integer({ min: 180_000, max: 220_000 }),
        fc.double({ min: 0, max: 10, noNaN: true }),
        (dir, openSteps, extraSteps, openTicks, flipTicks, flipFee) => {
          const pf = new Portfolio(1, { initialCapital: 0 });
          const q1 = qtyOf(openSteps);
          const q2 = qtyOf(openSteps + extraSteps);
          const p1 = priceOf(openTicks);
          const p2 = priceOf(flipTicks);
          pf.onFill(0, dir, q1, p1, 0, false, NaN);
          expect(pf.onFill(0, -dir, q2, p2, flipFee, false, NaN)).toBe(true);
          const realised = dir * (p2 - p1) * q1;
          expect(pf.realizedPnl(0)).toBeCloseTo(realised, 6);
          expect(pf.position(0)).toBeCloseTo(-dir * qtyOf(extraSteps), 9);
          expect(pf.avgEntryPrice(0)).toBe(p2);
          // the closing share of the flip's fee belongs to the finished round trip
          expect(pf.lastRoundTripPnl).toBeCloseTo(realised - (flipFee * q1) / q2, 6);
          pf.onMarkPrice(0, p2);
          expect(pf.unrealizedPnl(0)).toBeCloseTo(0, 9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('once flat, the round trips add up to the net realised PnL', () => {
    fc.assert(
      fc.property(fc.array(fillArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 180_000, max: 220_000 }), (fills, closeTicks) => {
        const pf = new Portfolio(1, { initialCapital: 0 });
        let trips = 0;
        let tripSum = 0;
        let posSteps = 0;
        for (const f of fills) {
          if (pf.onFill(0, f.side, qtyOf(f.qtySteps), priceOf(f.priceTicks), f.fee ?? NaN, f.isMaker, NaN)) {
            trips++;
            tripSum += pf.lastRoundTripPnl;
          }
          posSteps += f.side * f.qtySteps;
          // funding only accrues on an open position
          if (f.funding !== undefined && posSteps !== 0) pf.onFunding(0, f.funding);
        }
        if (posSteps !== 0 && pf.onFill(0, posSteps > 0 ? -1 : 1, qtyOf(Math.abs(posSteps)), priceOf(closeTicks), 0.25, false, NaN)) {
          trips++;
          tripSum += pf.lastRoundTripPnl;
        }
        expect(pf.position(0)).toBe(0);
        expect(pf.roundTrips).toBe(trips);
        expect(pf.winningTrips + pf.losingTrips).toBeLessThanOrEqual(trips);
        expect(tripSum).toBeCloseTo(pf.netRealizedPnl(), 6);
      }),
      { numRuns: 300 },
    );
  });
});
