import { afterEach } from 'vitest';

/** Shared waiting and clean-up for tests that drive servers and workers on loopback. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `cond` every 5 ms until it holds; throws `timed out waiting for <what>` after `ms`. The allowance is
 * generous on purpose: a passing test never waits it out, and a slow CI machine should not fail a test that
 * only waits for something that does happen.
 */
export async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** `waitFor` with the time limit first; `tick` runs before each check (e.g. draining a ring). */
export async function until(cond: () => boolean, timeoutMs: number, what: string, tick?: () => void): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    tick?.();
    if (cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A list of clean-ups run (last first) after each test of the file that calls this at its top level. */
export function useCleanups(): Array<() => Promise<void> | void> {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!();
  });
  return cleanups;
}
