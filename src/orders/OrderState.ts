/**
 * The life of one of our orders as the order state machine sees it. Values 0..7 equal ring C's
 * `OrderStatus` where the two overlap, so a reported status maps onto a state without a table;
 * PendingCancel exists only here (a cancel request of ours is in flight, the venue has not answered).
 *
 *   PendingNew ──► New ──► PartiallyFilled ──► Filled
 *      │  ▲         │  ▲        │    ▲
 *      │  │         ▼  │        ▼    │           terminal: Filled, Canceled, Rejected, Expired
 *      │  │       PendingCancel ─────┴──► Canceled / Expired / Filled
 *      ▼  │
 *    Unknown (lost answer or timeout; resolved by a query by client order id) ──► any state above
 */
export const enum OrderState {
  PendingNew = 0,
  New = 1,
  PartiallyFilled = 2,
  Filled = 3,
  Canceled = 4,
  Rejected = 5,
  Expired = 6,
  Unknown = 7,
  PendingCancel = 8,
}

/** Names used in the journal and in logs, indexed by OrderState. */
export const ORDER_STATE_NAMES: readonly string[] = [
  'pending_new', 'new', 'partially_filled', 'filled', 'canceled', 'rejected', 'expired', 'unknown', 'pending_cancel',
];

/** States in which the venue may still hold the order (or may hold it: Unknown). */
export const OPEN_STATE_NAMES: readonly string[] = ['pending_new', 'new', 'partially_filled', 'unknown', 'pending_cancel'];

export function isTerminalState(s: number): boolean {
  return s === OrderState.Filled || s === OrderState.Canceled || s === OrderState.Rejected || s === OrderState.Expired;
}

export function orderStateName(s: number): string {
  return ORDER_STATE_NAMES[s] ?? `state_${s}`;
}

/**
 * Client order ids are `<session prefix><intent id>` (see venues/binance/OrderEncoder.ts): the prefix is
 * unique per engine run, the intent id per order within it, so the id names exactly one intent.
 */
export function clientOrderId(prefix: string, intentId: number): string {
  return prefix + String(intentId);
}

/** The intent id a client order id carries under `prefix`, or -1 if it is not one of that session's. */
export function intentIdOf(clientOrderIdText: string, prefix: string): number {
  if (!clientOrderIdText.startsWith(prefix)) return -1;
  const digits = clientOrderIdText.slice(prefix.length);
  return /^\d{1,15}$/.test(digits) ? Number(digits) : -1;
}
