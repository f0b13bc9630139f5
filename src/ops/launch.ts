import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, showValue } from '../config/ConfigError.js';
import { formatCpuList, parseTasksetAffinity } from './cpuList.js';

/**
 * Launch tuning: which CPUs each worker runs on (`threads.cpus`) and which V8/Node flags the process starts
 * with (`node.flags`).
 *
 * Why not from inside Node: Node has no affinity API, and a worker thread is not a process, so `taskset`
 * on the pid moves every thread of the engine at once. Two layers are used instead:
 *  1. the process is started under `taskset -c <union of the configured CPUs>` (or systemd's CPUAffinity=),
 *     which bounds the main thread, libuv's pool and V8's GC helpers as well;
 *  2. each worker names its own thread at start (`nameCurrentThread('hft-feed')` writes
 *     /proc/thread-self/comm, a synchronous write that runs on the calling thread), and the main thread
 *     then pins each named thread with `taskset -p -c <cpus> <tid>` (`pinThreads`), finding the tids in
 *     /proc/self/task/<tid>/comm. Linux lets a process change the affinity of its own threads without
 *     privileges, inside the CPUs its cgroup allows.
 * Both are best effort: anything that fails is reported, never thrown. On a 2-core box leave pinning off
 * (design.md §6): it brings no gain there.
 */

export type WorkerName = 'feed' | 'strategy' | 'execution';
export const WORKER_NAMES: readonly WorkerName[] = ['feed', 'strategy', 'execution'];

/** The thread names (comm, at most 15 bytes) the workers give themselves. */
export const WORKER_THREAD_NAMES: Readonly<Record<WorkerName, string>> = {
  feed: 'hft-feed',
  strategy: 'hft-strategy',
  execution: 'hft-execution',
};

/** `threads.cpus`: CPUs per worker; a worker left out is not pinned. */
export type ThreadCpus = Partial<Record<WorkerName, number[]>>;

const MAX_CPU = 4095;
const NODE_FLAG = /^--[A-Za-z0-9][A-Za-z0-9_-]*(=[^\s]+)?$/;

/** Validates `threads.cpus` (undefined = {}); errors name the key as ConfigError does. */
export function validateThreadCpus(raw: unknown, key = 'threads.cpus'): ThreadCpus {
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(key, `must be an object { feed?, strategy?, execution? } of CPU number lists; got ${showValue(raw)}`);
  const out: ThreadCpus = {};
  for (const [name, list] of Object.entries(raw as Record<string, unknown>)) {
    if (!(WORKER_NAMES as readonly string[]).includes(name)) throw new ConfigError(`${key}.${name}`, `is not a worker (allowed: ${WORKER_NAMES.join(', ')})`);
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`${key}.${name}`, `must be a non-empty array of CPU numbers; got ${showValue(list)}`);
    const cpus: number[] = [];
    for (const c of list) {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 0 || c > MAX_CPU) throw new ConfigError(`${key}.${name}`, `must hold integers 0..${MAX_CPU}; got ${showValue(c)}`);
      if (cpus.includes(c)) throw new ConfigError(`${key}.${name}`, `lists CPU ${c} twice`);
      cpus.push(c);
    }
    out[name as WorkerName] = cpus;
  }
  return out;
}

/** Validates `node.flags` (undefined = []): each a `--flag` or `--flag=value`, no spaces. */
export function validateNodeFlags(raw: unknown, key = 'node.flags'): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(key, `must be an array of flags such as "--max-semi-space-size=64"; got ${showValue(raw)}`);
  return raw.map((f, i) => {
    if (typeof f !== 'string' || !NODE_FLAG.test(f)) throw new ConfigError(`${key}[${i}]`, `must be --name or --name=value without spaces; got ${showValue(f)}`);
    return f;
  });
}

export interface LaunchPlanInput {
  cpus: ThreadCpus;
  nodeFlags: readonly string[];
  /** the entry script (default bin/hft.js) */
  script?: string;
  /** arguments after the script (default run --config config/default.json) */
  args?: readonly string[];
  /** the node binary (default "node") */
  node?: string;
  /** CPUs this box offers (os.cpus indices or the current affinity); configured CPUs outside it are warned about */
  availableCpus?: readonly number[];
}

export interface LaunchPlan {
  /** the union of the configured CPUs: the process affinity ([] = not restricted) */
  processCpus: number[];
  /** `taskset -c LIST` or [] when nothing is pinned */
  tasksetPrefix: string[];
  /** the whole command: taskset prefix, node, flags, script, args */
  argv: string[];
  /** argv quoted for a POSIX shell */
  commandLine: string;
  /** the value for systemd's CPUAffinity= ('' = leave it out) */
  systemdCpuAffinity: string;
  /** thread name -> CPUs, for pinThreads once the workers are up */
  pinMap: Record<string, number[]>;
  warnings: string[];
}

/** Builds the launch command for the configured CPUs and flags. Pure. */
export function launchPlan(input: LaunchPlanInput): LaunchPlan {
  const warnings: string[] = [];
  const all = new Set<number>();
  const pinMap: Record<string, number[]> = {};
  const owners = new Map<number, WorkerName[]>();
  for (const w of WORKER_NAMES) {
    const cpus = input.cpus[w];
    if (!cpus || cpus.length === 0) continue;
    pinMap[WORKER_THREAD_NAMES[w]] = [...cpus];
    for (const c of cpus) {
      all.add(c);
      owners.set(c, [...(owners.get(c) ?? []), w]);
      if (input.availableCpus && !input.availableCpus.includes(c)) warnings.push(`threads.cpus.${w}: CPU ${c} is not available here (available: ${formatCpuList(input.availableCpus)})`);
    }
  }
  for (const [c, ws] of owners) {
    // a spinning strategy thread that shares its core starves the other thread (design.md §6)
    if (ws.length > 1 && ws.includes('strategy')) warnings.push(`CPU ${c} is shared by ${ws.join(' and ')}: keep the strategy worker alone on its core when it spins`);
  }
  const processCpus = [...all].sort((a, b) => a - b);
  const tasksetPrefix = processCpus.length > 0 ? ['taskset', '-c', formatCpuList(processCpus)] : [];
  const argv = [...tasksetPrefix, input.node ?? 'node', ...input.nodeFlags, input.script ?? 'bin/hft.js', ...(input.args ?? ['run', '--config', 'config/default.json'])];
  return {
    processCpus,
    tasksetPrefix,
    argv,
    commandLine: argv.map(shellQuote).join(' '),
    systemdCpuAffinity: processCpus.length > 0 ? formatCpuList(processCpus).replaceAll(',', ' ') : '',
    pinMap,
    warnings,
  };
}

/** Quotes one argument for a POSIX shell (left bare when it is plainly safe). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * Names the calling thread (at most 15 bytes) so the main thread can find and pin it; returns its tid, or
 * undefined where /proc/thread-self is missing (not Linux) or not writable. Call it first thing in a worker.
 */
export function nameCurrentThread(name: string): number | undefined {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
    const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

export interface ThreadInfo {
  tid: number;
  name: string;
}

/** The threads of this process (or of the one whose task directory is given) with their names. */
export function listThreads(taskDir = '/proc/self/task'): ThreadInfo[] {
  const out: ThreadInfo[] = [];
  let entries: string[];
  try {
    entries = readdirSync(taskDir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const tid = Number(e);
    if (!Number.isInteger(tid)) continue;
    try {
      out.push({ tid, name: readFileSync(`${taskDir}/${e}/comm`, 'utf8').trim() });
    } catch {
      // the thread exited between readdir and read
    }
  }
  return out;
}

export interface PinOutcome {
  name: string;
  cpus: number[];
  tid?: number;
  ok: boolean;
  /** the affinity taskset reports after the change */
  affinity?: number[];
  error?: string;
}

/** Runs a command synchronously: how pinThreads calls taskset (replaceable in tests). */
export type CommandRunner = (cmd: string, args: readonly string[]) => { status: number | null; stdout: string; stderr: string; error?: Error };

export const runCommandSync: CommandRunner = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) };
};

/**
 * Pins each thread of this process whose name is a key of `map` to that key's CPUs with
 * `taskset -p -c`. Best effort, never throws: one outcome per matched thread, or per name nothing matched.
 */
export function pinThreads(map: Readonly<Record<string, readonly number[]>>, opts: { taskDir?: string; run?: CommandRunner } = {}): PinOutcome[] {
  const run = opts.run ?? runCommandSync;
  const threads = listThreads(opts.taskDir);
  const out: PinOutcome[] = [];
  for (const [name, cpusRaw] of Object.entries(map)) {
    const cpus = [...cpusRaw];
    if (cpus.length === 0) continue;
    const matches = threads.filter((t) => t.name === name);
    if (matches.length === 0) {
      out.push({ name, cpus, ok: false, error: `no thread named ${name} (the worker must call nameCurrentThread at start)` });
      continue;
    }
    for (const t of matches) {
      const r = run('taskset', ['-p', '-c', formatCpuList(cpus), String(t.tid)]);
      if (r.error || r.status !== 0) {
        const why = r.error ? r.error.message : r.stderr.trim() || `exit ${r.status}`;
        out.push({ name, cpus, tid: t.tid, ok: false, error: `taskset failed: ${why}` });
        continue;
      }
      const affinity = parseTasksetAffinity(r.stdout);
      out.push({ name, cpus, tid: t.tid, ok: true, ...(affinity ? { affinity } : {}) });
    }
  }
  return out;
}

/** pinThreads for the engine's workers from `threads.cpus`. */
export function pinEngineThreads(cpus: ThreadCpus, opts: { taskDir?: string; run?: CommandRunner } = {}): PinOutcome[] {
  const map: Record<string, number[]> = {};
  for (const w of WORKER_NAMES) {
    const c = cpus[w];
    if (c && c.length > 0) map[WORKER_THREAD_NAMES[w]] = c;
  }
  return pinThreads(map, opts);
}

/** One line per outcome, for the log. */
export function formatPinOutcomes(outcomes: readonly PinOutcome[]): string {
  return outcomes
    .map((o) => (o.ok ? `pinned ${o.name} (tid ${o.tid}) to CPUs ${formatCpuList(o.affinity ?? o.cpus)}` : `not pinned ${o.name}${o.tid !== undefined ? ` (tid ${o.tid})` : ''}: ${o.error}`))
    .join('\n');
}
