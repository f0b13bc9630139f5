import { Writable } from 'node:stream';
import type { LogLine } from './ControlTarget.js';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * The last `capacity` log lines (pino JSON, already redacted by the logger) for the dashboard and `WS /ws`:
 * a writable the logger writes to beside stdout. A line that is not JSON is kept as text.
 */
export class LogTail extends Writable {
  private readonly lines: LogLine[] = [];
  private partial = '';

  constructor(private readonly capacity = 500) {
    super();
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') this.add(p);
    cb();
  }

  private add(raw: string): void {
    let line: LogLine;
    try {
      const j = JSON.parse(raw) as { time?: number; level?: number; msg?: string; worker?: string };
      const msg = typeof j.msg === 'string' ? j.msg : raw;
      line = { t: typeof j.time === 'number' ? j.time : Date.now(), level: LEVELS[j.level ?? 30] ?? String(j.level), msg: j.worker ? `[${j.worker}] ${msg}` : msg };
    } catch {
      line = { t: Date.now(), level: 'info', msg: raw };
    }
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
  }

  recent(limit: number): LogLine[] {
    return this.lines.slice(-limit);
  }

  clear(): number {
    const n = this.lines.length;
    this.lines.length = 0;
    return n;
  }
}
