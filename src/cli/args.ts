/** A small argv parser: `--key value`, `--key=value`, `--flag`; repeated keys collect into arrays. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseArgs(argv: readonly string[], flags: readonly string[] = []): ParsedArgs {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    let key = a.slice(2);
    let value: string;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (flags.includes(key)) value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${key} needs a value`);
      value = next;
      i++;
    }
    const list = options.get(key) ?? [];
    list.push(value);
    options.set(key, list);
  }
  return { positional, options };
}

export function only(args: ParsedArgs, allowed: readonly string[], command: string): void {
  for (const k of args.options.keys()) {
    if (!allowed.includes(k)) throw new UsageError(`hft ${command}: unknown option --${k} (allowed: ${allowed.map((x) => '--' + x).join(', ') || 'none'})`);
  }
}

export function str(args: ParsedArgs, key: string): string | undefined {
  const v = args.options.get(key);
  return v?.[v.length - 1];
}

export function flag(args: ParsedArgs, key: string): boolean {
  return str(args, key) === 'true';
}

export function num(args: ParsedArgs, key: string, opts: { min: number; max: number; int?: boolean }): number | undefined {
  const s = str(args, key);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || (opts.int && !Number.isInteger(n)) || n < opts.min || n > opts.max) {
    throw new UsageError(`--${key} must be ${opts.int ? 'an integer' : 'a number'} between ${opts.min} and ${opts.max}; got ${JSON.stringify(s)}`);
  }
  return n;
}
