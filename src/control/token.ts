import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../config/ConfigError.js';

/**
 * The control API's bearer token: `configured` when the config sets one, else the one stored in `file`,
 * else a new random one written there with owner-only permissions (0600) and reported as `created` so the
 * caller prints it once. A stored token readable by others is refused rather than used.
 */
export function loadOrCreateToken(configured: string, file: string): { token: string; created: boolean } {
  if (configured !== '') {
    if (configured.length < 16) throw new ConfigError('control.token', 'must be at least 16 characters (or "" to generate one)');
    return { token: configured, created: false };
  }
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) throw new ConfigError('control.tokenFile', `${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it or delete it to get a new token`);
    const token = readFileSync(file, 'utf8').trim();
    if (token.length < 16) throw new ConfigError('control.tokenFile', `${file} does not hold a token; delete it to get a new one`);
    return { token, created: false };
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token, created: true };
}
