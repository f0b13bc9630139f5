/**
 * Our Gate client order ids (`text`): `t-<prefix><intentId>`, with a leg suffix for the two orders of an
 * IOC-with-fallback intent: `-i` the IOC limit at a premium, `-m` the market order for its unfilled rest.
 * Gate allows `t-` plus up to 28 of [0-9A-Za-z_.-] (protocols.md §2.9).
 */

export const enum GateLeg {
  Single = 0,
  /** the IOC limit leg of an IOC-with-fallback intent */
  Ioc = 1,
  /** the market leg for the rest */
  Market = 2,
}

const PREFIX_RE = /^[0-9A-Za-z_.]{0,12}$/;

export function checkGatePrefix(prefix: string): void {
  if (!PREFIX_RE.test(prefix)) throw new Error(`gate client id prefix must be up to 12 of [0-9A-Za-z_.]; got ${JSON.stringify(prefix)}`);
}

export function gateClientId(prefix: string, intentId: number, leg: GateLeg = GateLeg.Single): string {
  return `t-${prefix}${intentId}${leg === GateLeg.Ioc ? '-i' : leg === GateLeg.Market ? '-m' : ''}`;
}

/** The intent and leg of one of our ids; intentId -1 for any other text (web, api, liquidation, ...). */
export function parseGateClientId(text: string, prefix: string): { intentId: number; leg: GateLeg } {
  const p = 2 + prefix.length;
  if (!text.startsWith('t-') || text.slice(2, p) !== prefix) return { intentId: -1, leg: GateLeg.Single };
  let end = text.length;
  let leg = GateLeg.Single;
  if (text.endsWith('-i')) {
    leg = GateLeg.Ioc;
    end -= 2;
  } else if (text.endsWith('-m')) {
    leg = GateLeg.Market;
    end -= 2;
  }
  const digits = text.slice(p, end);
  if (!/^\d{1,15}$/.test(digits)) return { intentId: -1, leg: GateLeg.Single };
  return { intentId: Number(digits), leg };
}
