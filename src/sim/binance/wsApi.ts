import type { SimAccount, VenueCore } from '../Venue.js';
import { accountInfo, balances } from './accountFormat.js';
import { E, type BinanceError } from './errors.js';
import type { BinanceRest, OrderOutcome } from './rest.js';
import { checkTimestamp, verifyHex, wsApiPayload } from './signing.js';
import type { UserStreams } from './userData.js';

/** Per-socket state of a WebSocket API (`/ws-fapi/v1`) connection. */
export interface ApiSocket {
  readonly kind: 'api';
  readonly id: number;
  closed: boolean;
  /** `returnRateLimits=false` on the connection URL drops `rateLimits` from responses. */
  rateLimits: boolean;
}

type Auth = 'NONE' | 'KEY' | 'SIGNED';

interface Method {
  weight: number;
  auth: Auth;
  run: (acc: SimAccount | null, params: Map<string, string>, now: number) => OrderOutcome | { error: null; result: unknown; counts: null };
}

/**
 * Binance USD-M WebSocket API (protocols.md §1.9): `order.place`, `order.modify`, `order.cancel`, `order.status`,
 * `algoOrder.place`, `algoOrder.cancel`, `account.balance`, `account.status`, `account.position` (and
 * their `v2/` variants), `userDataStream.start|ping|stop`, `time`, `ping`. Requests `{"id","method","params"}`;
 * responses `{"id","status","result","rateLimits"}` or `{"id","status","error":{"code","msg"},"rateLimits"}`.
 * HMAC signing: params sorted by key, joined k=v&..., signature excluded; `apiKey` and `timestamp`
 * inside params. Shares the weight and order counters with REST.
 */
export class BinanceWsApi {
  requests = 0;
  private readonly methods: Map<string, Method>;

  constructor(
    private readonly core: VenueCore,
    private readonly rest: BinanceRest,
    private readonly users: UserStreams,
    private readonly now: () => number,
  ) {
    const ok = (result: unknown): { error: null; result: unknown; counts: null } => ({ error: null, result, counts: null });
    const m = (weight: number, auth: Auth, run: Method['run']): Method => ({ weight, auth, run });
    const position = (v2: boolean) => (acc: SimAccount | null, p: Map<string, string>) => {
      const r = this.rest.positionRiskList(acc!, p, v2);
      return 'code' in r ? { error: r, result: null, counts: null } : ok(r);
    };
    this.methods = new Map<string, Method>([
      ['ping', m(1, 'NONE', () => ok({}))],
      ['time', m(1, 'NONE', (_a, _p, now) => ok({ serverTime: now }))],
      ['order.place', m(0, 'SIGNED', (acc, p, now) => this.rest.submitOrder(acc!, p, now))],
      ['order.modify', m(1, 'SIGNED', (acc, p, now) => this.rest.submitAmend(acc!, p, now))],
      ['order.cancel', m(1, 'SIGNED', (acc, p, now) => this.rest.submitCancel(acc!, p, now))],
      ['order.status', m(1, 'SIGNED', (acc, p) => this.rest.submitQuery(acc!, p, false))],
      ['algoOrder.place', m(0, 'SIGNED', (acc, p, now) => this.rest.submitAlgo(acc!, p, now))],
      ['algoOrder.cancel', m(1, 'SIGNED', (acc, p, now) => this.rest.submitAlgoCancel(acc!, p, now))],
      ['account.balance', m(5, 'SIGNED', (acc) => ok(balances(this.core, acc!)))],
      ['v2/account.balance', m(5, 'SIGNED', (acc) => ok(balances(this.core, acc!)))],
      ['account.status', m(5, 'SIGNED', (acc) => ok(accountInfo(this.core, acc!, true)))],
      ['v2/account.status', m(5, 'SIGNED', (acc) => ok(accountInfo(this.core, acc!, false)))],
      ['account.position', m(5, 'SIGNED', position(true))],
      ['v2/account.position', m(5, 'SIGNED', position(false))],
      ['userDataStream.start', m(1, 'KEY', (acc, _p, now) => ok({ listenKey: this.users.start(acc!, now) }))],
      [
        'userDataStream.ping',
        m(1, 'KEY', (acc, p, now) => {
          const key = this.users.keepalive(acc!, p.get('listenKey'), now);
          return key === null ? { error: E.invalidListenKey(), result: null, counts: null } : ok({ listenKey: key });
        }),
      ],
      [
        'userDataStream.stop',
        m(1, 'KEY', (acc, p) => (this.users.close(acc!, p.get('listenKey')) ? ok({}) : { error: E.invalidListenKey(), result: null, counts: null })),
      ],
    ]);
  }

  handle(text: string, sock?: ApiSocket): string {
    this.requests++;
    const now = this.now();
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return JSON.stringify({ id: null, status: 400, error: { code: -1000, msg: 'Malformed request: invalid JSON.' } });
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return JSON.stringify({ id: null, status: 400, error: { code: -1000, msg: 'Malformed request: expected an object.' } });
    }
    const req = msg as Record<string, unknown>;
    const id = typeof req['id'] === 'string' || typeof req['id'] === 'number' ? req['id'] : null;
    const method = req['method'];
    const rawParams = req['params'];
    const params: Record<string, unknown> =
      typeof rawParams === 'object' && rawParams !== null && !Array.isArray(rawParams) ? (rawParams as Record<string, unknown>) : {};
    const withLimits = (sock?.rateLimits ?? true) && params['returnRateLimits'] !== false && params['returnRateLimits'] !== 'false';

    const reply = (acc: SimAccount | null, body: Record<string, unknown>): string =>
      JSON.stringify(withLimits ? { id, ...body, rateLimits: this.rest.rateLimitsFor(acc, now) } : { id, ...body });
    const fail = (e: BinanceError, acc: SimAccount | null): string => reply(acc, { status: e.http, error: { code: e.code, msg: e.msg } });

    const m = typeof method === 'string' ? this.methods.get(method) : undefined;
    if (!m) return fail({ http: 400, code: -1000, msg: `Unknown method: ${typeof method === 'string' ? method : String(method)}` }, null);
    this.rest.addWeight(now, m.weight);
    const limited = this.rest.weightError(now);
    if (limited) return fail(limited, null);

    let acc: SimAccount | null = null;
    if (m.auth !== 'NONE') {
      const auth = m.auth === 'SIGNED' ? this.authenticate(params, now) : this.apiKeyOnly(params);
      if ('code' in auth) return fail(auth, null);
      acc = auth.acc;
    }
    const map = new Map<string, string>();
    for (const [k, v] of Object.entries(params)) if (k !== 'signature' && k !== 'apiKey' && k !== 'returnRateLimits') map.set(k, text1(v));
    const r = m.run(acc, map, now);
    return r.error ? fail(r.error, acc) : reply(acc, { status: 200, result: r.result });
  }

  private apiKeyOnly(params: Record<string, unknown>): { acc: SimAccount } | BinanceError {
    const apiKey = params['apiKey'];
    if (typeof apiKey !== 'string' || apiKey === '') return E.invalidApiKey();
    const acc = this.core.accountByApiKey(apiKey);
    if (!acc) return E.invalidApiKey();
    return { acc };
  }

  private authenticate(params: Record<string, unknown>, now: number): { acc: SimAccount } | BinanceError {
    const key = this.apiKeyOnly(params);
    if ('code' in key) return key;
    const asStrings = new Map<string, string>();
    for (const k of ['timestamp', 'recvWindow']) if (params[k] !== undefined) asStrings.set(k, text1(params[k]));
    const ts = checkTimestamp(asStrings, now);
    if (ts) return ts;
    const sig = params['signature'];
    if (typeof sig !== 'string' || sig === '') return E.mandatory('signature');
    if (!verifyHex(key.acc.apiSecret, wsApiPayload(params), sig)) return E.invalidSignature();
    return key;
  }
}

function text1(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}
