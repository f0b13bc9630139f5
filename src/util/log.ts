import { pino, type Logger } from 'pino';

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  'apiKey', 'apiSecret', 'secret', 'signature', 'token',
  '*.apiKey', '*.apiSecret', '*.secret', '*.signature', '*.token',
  '*.*.apiKey', '*.*.apiSecret',
  'headers["x-mbx-apikey"]', '*.headers["x-mbx-apikey"]',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const opts = { level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

export type { Logger };
