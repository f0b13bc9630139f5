import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BIN_PATH } from '../util/paths.js';

/** The URLs and test keys a simulator prints as its first stdout line. */
export interface VenueEndpoints {
  venue: string;
  rest: string;
  ws: string;
  wsApi: string;
  apiKey: string;
  apiSecret: string;
  /** Gate: the account's user id (private channel payloads) */
  userId?: number;
}

/**
 * The built-in venue simulator in a child process (`hft sim`), as a real exchange would be: its own
 * process, reached over loopback. Reads the JSON line with its URLs, forwards its stderr, and stops it.
 */
export class VenueProcess {
  private child: ChildProcess | undefined;
  endpoints: VenueEndpoints | undefined;
  private exited = false;

  constructor(
    private readonly args: {
      rate: number;
      seed: number;
      port: number;
      symbols: readonly string[];
      venue?: 'binance' | 'gate';
      /** shadow mode: mirror this real venue's market data (`hft sim --mirror`) instead of the synthetic market */
      mirror?: { restUrl: string; wsUrl: string; streams: readonly string[]; routing: 'split' | 'legacy' };
    },
  ) {}

  async start(timeoutMs = 15_000): Promise<VenueEndpoints> {
    const argv = [BIN_PATH, 'sim', '--venue', this.args.venue ?? 'binance', '--port', String(this.args.port), '--rate', String(this.args.rate), '--seed', String(this.args.seed), '--symbols', this.args.symbols.join(',')];
    const m = this.args.mirror;
    if (m) argv.push('--mirror', m.restUrl, m.wsUrl, '--mirror-streams', m.streams.join(','), '--mirror-routing', m.routing);
    // Its own process group: a Ctrl-C at the terminal reaches the engine only, which stops its workers
    // (user stream, open requests) first and the venue last, as it would stop before a real exchange.
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    // ...and never outlives the engine, whatever way the engine ends.
    const killOnExit = (): void => {
      if (!this.exited) child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    child.once('exit', () => {
      this.exited = true;
      process.removeListener('exit', killOnExit);
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`venue simulator did not start within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      lines.once('line', (l) => {
        clearTimeout(t);
        resolve(l);
      });
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`venue simulator exited with code ${code}: ${stderr}`));
      });
    });
    let ep: VenueEndpoints;
    try {
      ep = JSON.parse(first) as VenueEndpoints;
    } catch {
      throw new Error(`venue simulator printed no JSON endpoints line: ${first}`);
    }
    lines.on('line', () => undefined); // keep draining its stdout
    this.endpoints = ep;
    return ep;
  }

  get running(): boolean {
    return this.child !== undefined && !this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    const c = this.child;
    if (!c || this.exited) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    await done;
    clearTimeout(t);
  }
}
