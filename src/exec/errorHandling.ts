/**
 * What the engine does with a venue's answer to an order request, whatever the venue: each dialect's error
 * table (src/venues/<venue>/errors.ts) maps its codes or labels to one of these.
 */
export const enum ErrorHandling {
  None = 0,
  /** the request certainly had no effect (order not placed); fix or drop, resending is a decision */
  Definite = 1,
  /** execution status unknown: reconcile by client order id, never resend blindly */
  Unknown = 2,
  /** clock skew (-1021, -5028): resync venue time, then resending is safe (nothing was placed) */
  RetryAfterClockSync = 3,
  /** rate limit or overload: not placed; wait (Retry-After / window end) before sending more */
  Backoff = 4,
  /** stop order entry and raise an alarm (IP ban, invalid key or permissions, WAF block) */
  Halt = 5,
  /** a normal outcome of the order type (FOK not filled, post-only would take) */
  Expected = 6,
  /** cancel of an order the venue no longer has open (-2011): treat as closed and reconcile */
  AlreadyClosed = 7,
}
