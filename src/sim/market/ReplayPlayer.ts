/**
 * The replay clock shared by the simulator dialects (Binance `ReplayPlayer`, Gate `GateReplayPlayer`): it walks a
 * recording's timeline of frames (`type: 0`) and snapshots (`type: 1`) and hands each frame to the dialect's sink.
 * What differs between the dialects (the source, how a frame reaches subscribers, when they are congested) is
 * the `ReplayTimeline` and `ReplaySink` passed in.
 */

/** One item of a recording's timeline: a ws frame (`type: 0`) or a recorded snapshot. */
export interface TimelineItem {
  readonly type: number;
  /** Recorder receive time, unix seconds (NaN when unknown). */
  readonly ts: number;
}

/** The recording as the player sees it (a dialect's replay source). */
export interface ReplayTimeline<I extends TimelineItem> {
  readonly items: readonly I[];
  /** ws frames in the recording (one lap). */
  readonly frameCount: number;
  readonly loadStats: { readonly skippedFrames: number };
  /** `ts` of the last item applied, NaN before the first. */
  readonly clockTs: number;
  /** Back to the start of the recording (books rebuilt from scratch). */
  reset(): void;
  /** The replay clock passed this item. */
  apply(item: I): void;
}

/** How the player hands frames to the venue dialect. */
export interface ReplaySink<F> {
  /** Sends one frame to its stream's subscribers; returns whether anyone received it. */
  deliver(frame: F): boolean;
  /** Writes what `deliver` queued (called after each batch). */
  flush(): void;
  /** Subscribers have this much unsent data queued that an as-fast-as-possible replay should wait (speed 0). */
  congested(): boolean;
}

export interface ReplayStats {
  file: string;
  speed: number;
  loop: boolean;
  /** ws frames in the recording (one lap). */
  framesTotal: number;
  /** Frames the replay clock has passed (laps included). */
  framesReplayed: number;
  /** Of those, frames that reached at least one subscriber. */
  framesSent: number;
  /** Recorded snapshots the replay clock has passed. */
  snapshotsReplayed: number;
  /** ws lines of the file not replayed (control replies, non-JSON). */
  framesSkipped: number;
  laps: number;
  started: boolean;
  paused: boolean;
  /** The end of the recording (no loop) or maxFrames was reached. */
  done: boolean;
  /** Replay clock: `ts` (unix seconds) of the last item replayed; null before the first. */
  clockTs: number | null;
}

export interface ReplayPlayerOptions {
  file: string;
  speed: number;
  loop: boolean;
  maxFrames: number;
  /** Speed 0, congested: look again after this long (ms) unless `kick()` comes first. */
  congestionRetryMs: number;
}

/** The frames of a timeline of items. */
export type FrameOf<I extends TimelineItem> = Extract<I, { readonly type: 0 }>;

function isFrame<I extends TimelineItem>(it: I): it is FrameOf<I> {
  return it.type === 0;
}

/** Items per batch between flushes (and between looks at the subscribers' buffers). */
const BATCH = 1024;

/**
 * Walks a timeline. Speed > 0: an item is due when (ts - ts0) / speed seconds of wall time have passed since
 * the start (pauses excluded); due items go out in order on a timer aimed at the next one. Speed 0: batches
 * back to back, waiting (for `kick()` from the socket's drain, or congestionRetryMs) while the subscribers
 * have too much unsent data, so nothing is dropped.
 */
export class TimelinePlayer<I extends TimelineItem> {
  private idx = 0;
  private started = false;
  private paused = false;
  private done = false;
  private stopped = false;
  private laps = 0;
  private replayed = 0;
  private sent = 0;
  private snapshots = 0;
  /** Wall time (performance.now ms) at which the lap's first item is due, and that item's ts. */
  private wallBase = 0;
  private tsBase = 0;
  private pausedAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private startTimer: NodeJS.Timeout | null = null;
  private waitingDrain = false;
  private readonly doneWaiters: Array<() => void> = [];
  private readonly speed: number;
  private readonly loop: boolean;
  private readonly maxFrames: number;

  constructor(
    readonly source: ReplayTimeline<I>,
    private readonly sink: ReplaySink<FrameOf<I>>,
    private readonly playerOpts: ReplayPlayerOptions,
  ) {
    if (!Number.isFinite(playerOpts.speed) || playerOpts.speed < 0) throw new RangeError(`replay speed must be >= 0 (got ${playerOpts.speed})`);
    this.speed = playerOpts.speed;
    this.loop = playerOpts.loop && source.frameCount > 0;
    this.maxFrames = playerOpts.maxFrames;
    if (source.items.length === 0 || this.maxFrames <= 0) this.done = true;
  }

  /** Starts the replay after `delayMs` (idempotent). */
  start(delayMs = 0): void {
    if (this.started || this.startTimer !== null || this.stopped) return;
    const go = (): void => {
      this.startTimer = null;
      if (this.stopped) return;
      this.started = true;
      this.beginLap();
      // paused before the start: the pause counts from here (the clock has not run yet)
      if (this.paused) this.pausedAt = this.wallBase;
      if (this.done) this.finish();
      else if (!this.paused) this.schedule(0);
    };
    if (delayMs > 0) this.startTimer = setTimeout(go, delayMs);
    else go();
  }

  get isStarted(): boolean {
    return this.started || this.startTimer !== null;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pausedAt = performance.now();
    this.cancel();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // The replay clock stands still while paused.
    this.wallBase += performance.now() - this.pausedAt;
    if (this.started && !this.done) this.schedule(0);
  }

  /** The subscribers' buffers drained: go on at once if an as-fast-as-possible replay was waiting. */
  kick(): void {
    if (!this.waitingDrain) return;
    this.waitingDrain = false;
    this.cancel();
    if (this.started && !this.done && !this.paused) this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
    if (this.startTimer !== null) clearTimeout(this.startTimer);
    this.startTimer = null;
    this.finish();
  }

  /** Resolves when the replay is done (end of the recording without loop, maxFrames, or stop()). */
  whenDone(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.doneWaiters.push(resolve));
  }

  stats(): ReplayStats {
    const clock = this.source.clockTs;
    return {
      file: this.playerOpts.file,
      speed: this.speed,
      loop: this.loop,
      framesTotal: this.source.frameCount,
      framesReplayed: this.replayed,
      framesSent: this.sent,
      snapshotsReplayed: this.snapshots,
      framesSkipped: this.source.loadStats.skippedFrames,
      laps: this.laps,
      started: this.started,
      paused: this.paused,
      done: this.done,
      clockTs: clock === clock ? clock : null,
    };
  }

  private beginLap(): void {
    this.idx = 0;
    this.source.reset();
    this.wallBase = performance.now();
    const first = this.source.items[0];
    this.tsBase = first !== undefined && first.ts === first.ts ? first.ts : 0;
  }

  private cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private schedule(delayMs: number): void {
    this.cancel();
    if (delayMs <= 0) this.immediate = setImmediate(this.step);
    else this.timer = setTimeout(this.step, delayMs);
  }

  private finish(): void {
    this.done = true;
    this.cancel();
    const w = this.doneWaiters.splice(0);
    for (const f of w) f();
  }

  private readonly step = (): void => {
    this.timer = null;
    this.immediate = null;
    if (this.done || this.paused || this.stopped) return;
    const items = this.source.items;
    const src = this.source;
    const sink = this.sink;
    const paced = this.speed > 0;
    // Seconds of recording time due by now.
    const dueTs = paced ? this.tsBase + ((performance.now() - this.wallBase) / 1000) * this.speed : Infinity;
    let n = 0;
    while (n < BATCH) {
      if (this.idx >= items.length) {
        if (!this.loop) break;
        this.laps++;
        this.beginLap();
        if (paced) break; // the next lap starts now, on the next step
      }
      const it = items[this.idx]!;
      if (paced && it.ts === it.ts && it.ts > dueTs) break;
      this.idx++;
      src.apply(it);
      if (isFrame(it)) {
        this.replayed++;
        n++;
        if (sink.deliver(it)) this.sent++;
        if (this.replayed >= this.maxFrames) break;
      } else this.snapshots++;
    }
    sink.flush();
    if (this.replayed >= this.maxFrames || (this.idx >= items.length && !this.loop)) {
      if (this.idx >= items.length) this.laps++;
      this.finish();
      return;
    }
    if (!paced) {
      if (sink.congested()) {
        this.waitingDrain = true;
        // The drain callback normally comes first; the timer covers a socket that went away meanwhile.
        this.timer = setTimeout(this.step, this.playerOpts.congestionRetryMs);
      } else this.schedule(0);
      return;
    }
    if (n >= BATCH) {
      this.schedule(0);
      return;
    }
    const next = items[this.idx];
    const wait = next !== undefined && next.ts === next.ts ? ((next.ts - this.tsBase) / this.speed) * 1000 - (performance.now() - this.wallBase) : 0;
    this.schedule(Math.max(0, wait));
  };
}
