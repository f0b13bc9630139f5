import { Rng } from '../sim/rng.js';
import { LatencySpecError, makeSampler, type LatencyOptions, type Sampler } from '../sim/latency/Latency.js';
import type { ExchangeDelays } from './SimExchange.js';

/**
 * The backtest's delays, from the simulator's latency specs (`--latency [channel=]SPEC`, as `hft sim`):
 * `feed` delays each market-data frame on its way to the strategy, `order` each request on its way to the
 * exchange, `ack` each response on its way back (or one `rtt` draw split between the two), and `user` the
 * fills and triggers of resting orders (user data stream; the `ack` delay when not given). Every draw is
 * multiplied by `scale` (the latency sensitivity runs: 0.5x, 1x, 2x of the same seeded draws).
 */
export class BacktestDelays implements ExchangeDelays {
  orderMs = 0;
  ackMs = 0;
  private readonly feedS: Sampler | null;
  private readonly userS: Sampler | null;
  private readonly orderS: Sampler | null;
  private readonly ackS: Sampler | null;
  private readonly rttS: Sampler | null;
  private readonly share: number;

  constructor(opts: LatencyOptions, seed: number, private readonly scale = 1) {
    // one generator per channel, forked in a fixed order: a channel's draws do not depend on the others' traffic
    const root = new Rng((opts.seed ?? seed) ^ 0x1a7e2c5);
    const rngs = { feed: root.fork(), user: root.fork(), order: root.fork(), ack: root.fork(), rtt: root.fork() };
    const rtt = opts.rtt ?? (opts.file !== undefined ? { kind: 'file' as const, file: opts.file } : undefined);
    if (rtt !== undefined && (opts.order !== undefined || opts.ack !== undefined)) throw new LatencySpecError('latency: give either rtt (or file) or order/ack, not both');
    this.feedS = opts.feed !== undefined ? makeSampler(opts.feed, rngs.feed) : null;
    this.userS = opts.user !== undefined ? makeSampler(opts.user, rngs.user) : null;
    this.orderS = opts.order !== undefined ? makeSampler(opts.order, rngs.order) : null;
    this.ackS = opts.ack !== undefined ? makeSampler(opts.ack, rngs.ack) : null;
    this.rttS = rtt !== undefined ? makeSampler(rtt, rngs.rtt) : null;
    this.share = opts.rttOrderShare ?? 0.5;
    if (!(this.share >= 0 && this.share <= 1)) throw new LatencySpecError('latency: rttOrderShare must be within 0..1');
    if (!(scale >= 0) || !Number.isFinite(scale)) throw new LatencySpecError('latency: scale must be a finite number >= 0');
  }

  draw(): void {
    if (this.rttS !== null) {
      const d = this.rttS.next() * this.scale;
      this.orderMs = d * this.share;
      this.ackMs = d - this.orderMs;
      return;
    }
    this.orderMs = this.orderS !== null ? this.orderS.next() * this.scale : 0;
    this.ackMs = this.ackS !== null ? this.ackS.next() * this.scale : 0;
  }

  feed(): number {
    return this.feedS !== null ? this.feedS.next() * this.scale : 0;
  }

  user(): number {
    if (this.userS !== null) return this.userS.next() * this.scale;
    if (this.ackS !== null) return this.ackS.next() * this.scale;
    if (this.rttS !== null) return this.rttS.next() * this.scale * (1 - this.share);
    return 0;
  }

  /** Per channel: what was configured (for the report). */
  describe(): Record<string, string> {
    const out: Record<string, string> = {};
    const x = this.scale !== 1 ? ` x${this.scale}` : '';
    if (this.feedS) out['feed'] = this.feedS.describe() + x;
    if (this.orderS) out['order'] = this.orderS.describe() + x;
    if (this.ackS) out['ack'] = this.ackS.describe() + x;
    if (this.rttS) out['rtt'] = `${this.rttS.describe()}${x} split ${this.share}/${1 - this.share}`;
    if (this.userS) out['user'] = this.userS.describe() + x;
    else if (this.ackS || this.rttS) out['user'] = 'as ack';
    return out;
  }
}
