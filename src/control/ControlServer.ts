import { readFileSync, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import uWS from 'uWebSockets.js';
import type { HttpRequest, HttpResponse, WebSocket } from 'uWebSockets.js';
import { listenExclusive } from '../net/uwsListen.js';
import { readBody, trackAborted } from '../net/uwsBody.js';
import { ControlRequestError, type ControlTarget, type TradingAction } from './ControlTarget.js';

/**
 * The operator's API on uWebSockets.js, in the main thread (never on the hot path):
 * - JSON GET endpoints (health, stats, positions, orders, fills, pnl, strategies) and `/metrics`;
 * - mutating POST endpoints behind a bearer token (strategies, trading state, engine start/stop, history);
 * - `WS /ws`: topics pushed at most `pushHz` times a second each;
 * - the dashboard's static files.
 * Binds 127.0.0.1 by default. No CORS headers are ever sent (a browser on another origin cannot read the
 * answers, and a pre-flight is refused), request bodies are size-capped and validated, every error is a JSON
 * `{ error }` with a 4xx/5xx status and is counted.
 */
export interface ControlServerOptions {
  host: string;
  port: number;
  token: string;
  /** folder of the dashboard's static files (served at /) */
  staticDir?: string;
  /** pushes per second per topic on /ws (default 2) */
  pushHz?: number;
}

export interface ControlCounters {
  requests: number;
  unauthorized: number;
  badRequests: number;
  notFound: number;
  serverErrors: number;
  wsClients: number;
  wsMessages: number;
}

const MAX_BODY = 16 * 1024;
const STATUS: Record<number, string> = {
  200: '200 OK',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  500: '500 Internal Server Error',
};
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};
/** Topics of `WS /ws`, in push order. */
export const TOPICS = ['stats', 'positions', 'orders', 'fills', 'logs'] as const;
export type Topic = (typeof TOPICS)[number];

const TRADING: Record<string, TradingAction> = { halt: 'halt', resume: 'resume', 'reduce-only': 'reduce-only', flatten: 'flatten' };
const STRATEGY_ACTIONS = new Set(['activate', 'deactivate', 'params']);
const PNL_RANGES = new Set(['session', 'today', 'all']);

interface Reply {
  status: number;
  /** text, or bytes (static files: images stay intact) */
  body: string | Buffer;
  type?: string;
}

export class ControlServer {
  readonly counters: ControlCounters = { requests: 0, unauthorized: 0, badRequests: 0, notFound: 0, serverErrors: 0, wsClients: 0, wsMessages: 0 };
  private app: uWS.TemplatedApp | undefined;
  private listenSocket: uWS.us_listen_socket | undefined;
  private pushTimer: NodeJS.Timeout | undefined;
  private readonly token: Buffer;
  private boundPort = 0;
  private readonly sockets = new Set<WebSocket<unknown>>();

  constructor(
    private readonly target: ControlTarget,
    private readonly opts: ControlServerOptions,
  ) {
    this.token = Buffer.from(opts.token, 'utf8');
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.opts.host}:${this.boundPort}`;
  }

  async start(): Promise<void> {
    const app = uWS.App();
    this.app = app;
    app.ws('/ws', {
      maxPayloadLength: 4096,
      idleTimeout: 120,
      open: (ws) => {
        this.sockets.add(ws);
        this.counters.wsClients = this.sockets.size;
        for (const t of TOPICS) ws.subscribe(t);
      },
      close: (ws) => {
        this.sockets.delete(ws);
        this.counters.wsClients = this.sockets.size;
      },
      // the feed is one-way; anything a client sends is ignored
      message: () => undefined,
    });
    app.any('/*', (res, req) => this.onRequest(res, req));
    const { listenSocket, port } = await listenExclusive(app, this.opts.host, this.opts.port, 'control API');
    this.listenSocket = listenSocket;
    this.boundPort = port;
    const hz = this.opts.pushHz ?? 2;
    if (!(hz > 0 && hz <= 2)) throw new RangeError(`control.pushHz must be in (0, 2]; got ${hz}`);
    this.pushTimer = setInterval(() => this.push(), Math.round(1000 / hz));
  }

  async close(): Promise<void> {
    if (this.pushTimer) clearInterval(this.pushTimer);
    for (const ws of [...this.sockets]) ws.close();
    this.sockets.clear();
    if (this.listenSocket) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
    this.app = undefined;
  }

  /** Publishes every topic once (the timer's work; also called by tests). */
  push(): void {
    const app = this.app;
    if (!app || this.sockets.size === 0) return;
    for (const t of TOPICS) {
      let data: unknown;
      try {
        data = this.topicData(t);
      } catch {
        continue;
      }
      app.publish(t, JSON.stringify({ topic: t, t: Date.now(), data }));
      this.counters.wsMessages++;
    }
  }

  private topicData(t: Topic): unknown {
    const x = this.target;
    switch (t) {
      case 'stats':
        return x.stats();
      case 'positions':
        return x.positions();
      case 'orders':
        return x.orders();
      case 'fills':
        return x.fills(50);
      case 'logs':
        return x.logs(100);
    }
  }

  private onRequest(res: HttpResponse, req: HttpRequest): void {
    this.counters.requests++;
    const method = req.getMethod();
    const url = req.getUrl();
    const query = new URLSearchParams(req.getQuery() ?? '');
    const auth = req.getHeader('authorization');
    const contentType = req.getHeader('content-type');
    const state = trackAborted(res);
    const send = (r: Reply): void => {
      if (state.aborted) return;
      this.countStatus(r.status);
      res.cork(() => {
        res.writeStatus(STATUS[r.status] ?? `${r.status} Error`);
        res.writeHeader('Content-Type', r.type ?? 'application/json; charset=utf-8');
        res.writeHeader('Cache-Control', 'no-store');
        res.writeHeader('X-Content-Type-Options', 'nosniff');
        res.end(r.body);
      });
    };
    if (method === 'get') {
      if (url === '/metrics') {
        this.target.metrics().then(
          (text) => send({ status: 200, body: text, type: 'text/plain; version=0.0.4; charset=utf-8' }),
          (e: unknown) => send(errorOf(e)),
        );
        return;
      }
      send(this.safe(() => this.get(url, query)));
      return;
    }
    if (method !== 'post') {
      // OPTIONS included: no CORS pre-flight is ever granted
      send(error(405, `${method.toUpperCase()} is not allowed; use GET or POST`));
      return;
    }
    readBody(res, state, MAX_BODY, () => send(error(413, `request body is larger than ${MAX_BODY} bytes`)), (body) => {
      if (!this.authorized(auth)) {
        send(error(401, 'missing or wrong bearer token (Authorization: Bearer <token>; the token was printed at first start)'));
        return;
      }
      let parsed: unknown = {};
      if (body.trim() !== '') {
        if (!contentType.toLowerCase().startsWith('application/json')) {
          send(error(400, 'a request body must be JSON (Content-Type: application/json)'));
          return;
        }
        try {
          parsed = JSON.parse(body);
        } catch {
          send(error(400, 'request body is not valid JSON'));
          return;
        }
      }
      this.post(url, parsed).then(send, (e: unknown) => send(errorOf(e)));
    });
  }

  private authorized(header: string): boolean {
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) return false;
    const given = Buffer.from(m[1]!, 'utf8');
    return given.length === this.token.length && timingSafeEqual(given, this.token);
  }

  private countStatus(status: number): void {
    const c = this.counters;
    if (status === 401) c.unauthorized++;
    else if (status === 404) c.notFound++;
    else if (status >= 500) c.serverErrors++;
    else if (status >= 400) c.badRequests++;
  }

  private safe(f: () => Reply): Reply {
    try {
      return f();
    } catch (e) {
      return errorOf(e);
    }
  }

  private get(url: string, q: URLSearchParams): Reply {
    const x = this.target;
    switch (url) {
      case '/health':
        return json(x.health());
      case '/stats':
        return json(x.stats());
      case '/positions':
        return json(x.positions());
      case '/orders':
        return json(x.orders());
      case '/fills':
        return json(x.fills(intParam(q, 'limit', 100, 1, 10_000)));
      case '/pnl': {
        const range = q.get('range') ?? 'session';
        if (!PNL_RANGES.has(range)) return error(400, `range must be one of session, today, all; got ${JSON.stringify(range)}`);
        const from = optInt(q, 'from');
        const to = optInt(q, 'to');
        if (from !== undefined && to !== undefined && from > to) return error(400, 'from must not be after to');
        return json(x.pnl(range as 'session' | 'today' | 'all', from, to));
      }
      case '/strategies':
        return json(x.strategies());
      default:
        return this.staticFile(url);
    }
  }

  private async post(url: string, body: unknown): Promise<Reply> {
    const x = this.target;
    const parts = url.split('/').filter((p) => p !== '');
    if (parts[0] === 'strategies' && parts.length === 3 && STRATEGY_ACTIONS.has(parts[2]!)) {
      // activate or re-parameterise another registered strategy: the engine switches to it
      const name = decodeURIComponent(parts[1]!);
      const action = parts[2]!;
      const current = x.strategies().current;
      const isCurrent = name === current.name;
      if (action === 'params') {
        if (!isObject(body)) return error(400, 'body must be a JSON object of parameters, e.g. {"quantity": 0.002}');
        const r = x.controlStrategy(isCurrent ? { action: 'params', params: body } : { action: 'switch', name, params: body });
        return r.ok ? json(r) : error(400, r.error);
      }
      if (!isObject(body) || Object.keys(body).length > 0) return error(400, `${action} takes no body`);
      if (action === 'deactivate') {
        if (!isCurrent) return error(409, `${name} is not the running strategy (${current.name})`);
        const r = x.controlStrategy({ action: 'deactivate' });
        return r.ok ? json(r) : error(400, r.error);
      }
      if (!isCurrent) {
        const s = x.controlStrategy({ action: 'switch', name });
        if (!s.ok) return error(400, s.error);
      }
      const r = x.controlStrategy({ action: 'activate' });
      return r.ok ? json(r) : error(400, r.error);
    }
    if (parts[0] === 'trading' && parts.length === 2) {
      const action = TRADING[parts[1]!];
      if (action === undefined) return error(404, `no such endpoint: POST ${url}`);
      if (!isObject(body)) return error(400, 'body must be a JSON object');
      const extra = Object.keys(body).filter((k) => k !== 'reason');
      if (extra.length > 0) return error(400, `unknown field ${extra[0]}; allowed: reason`);
      const reason = body.reason;
      if (reason !== undefined && (typeof reason !== 'string' || reason.length > 200)) return error(400, 'reason must be a string of at most 200 characters');
      const r = await x.trading(action, typeof reason === 'string' ? reason : 'operator');
      return r.ok ? json(r) : error(409, r.error ?? 'refused');
    }
    if (parts[0] === 'engine' && parts.length === 2 && (parts[1] === 'start' || parts[1] === 'stop')) {
      if (!isObject(body) || Object.keys(body).length > 0) return error(400, `engine/${parts[1]} takes no body`);
      const r = await x.engine(parts[1]);
      return r.ok ? json(r) : error(409, r.error ?? 'refused');
    }
    if (url === '/history/clear') {
      if (!isObject(body)) return error(400, 'body must be a JSON object');
      const extra = Object.keys(body).filter((k) => k !== 'before');
      if (extra.length > 0) return error(400, `unknown field ${extra[0]}; allowed: before`);
      const before = body.before;
      if (before !== undefined && (typeof before !== 'number' || !Number.isInteger(before) || before < 0)) return error(400, 'before must be a time in ms since the epoch');
      return json(await x.clearHistory(typeof before === 'number' ? before : undefined));
    }
    return error(404, `no such endpoint: POST ${url}`);
  }

  private staticFile(url: string): Reply {
    const dir = this.opts.staticDir;
    if (!dir) return error(404, `no such endpoint: GET ${url}`);
    const rel = url === '/' ? 'index.html' : decodeURIComponent(url.slice(1));
    const path = normalize(join(dir, rel));
    // never outside the static folder
    if (!(path === normalize(dir) || path.startsWith(normalize(dir) + sep)) || !existsSync(path) || !statSync(path).isFile()) {
      return error(404, `no such endpoint: GET ${url}`);
    }
    return { status: 200, body: readFileSync(path), type: MIME[extname(path)] ?? 'application/octet-stream' };
  }
}

function json(v: unknown): Reply {
  return { status: 200, body: JSON.stringify(v) };
}

function error(status: number, message: string): Reply {
  return { status, body: JSON.stringify({ error: message }) };
}

function errorOf(e: unknown): Reply {
  if (e instanceof ControlRequestError) return error(e.status, e.message);
  return error(500, `internal error: ${e instanceof Error ? e.message : String(e)}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function intParam(q: URLSearchParams, key: string, dflt: number, min: number, max: number): number {
  const v = q.get(key);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ControlRequestError(400, `${key} must be an integer between ${min} and ${max}; got ${JSON.stringify(v)}`);
  return n;
}

function optInt(q: URLSearchParams, key: string): number | undefined {
  const v = q.get(key);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new ControlRequestError(400, `${key} must be a time in ms since the epoch; got ${JSON.stringify(v)}`);
  return n;
}
