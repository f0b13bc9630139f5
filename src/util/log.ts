import { pino, type Logger } from 'pino';

/** Logs to stdout and to `copy` (the control plane's log tail), each line once, already redacted. */
export function createTeeLogger(level: string, copy: NodeJS.WritableStream): Logger {
  return createLogger(level, pino.multistream([{ stream: process.stdout, level: level as pino.Level }, { stream: copy, level: level as pino.Level }]));
}

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  'apiKey', 'apiSecret', 'secret', 'signature', 'token',
  '*.apiKey', '*.apiSecret', '*.secret', '*.signature', '*.token',
  '*.*.apiKey', '*.*.apiSecret',
  'headers["x-mbx-apikey"]', '*.headers["x-mbx-apikey"]',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream | pino.DestinationStream): Logger {
  const opts = { level, base: { pid: process.pid }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return destination ? pino(opts, destination) : pino(opts);
}

export type { Logger };
