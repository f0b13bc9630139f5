/** A configuration (or strategy parameter) error: the message names the key, what it holds and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(`config: ${key} ${message}`);
    this.name = 'ConfigError';
  }
}

/** A value as an error message shows it (JSON, shortened). */
export function showValue(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s;
}
