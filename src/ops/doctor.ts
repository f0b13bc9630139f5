import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus as osCpus, freemem } from 'node:os';
import { join } from 'node:path';
import { flag, only, parseArgs, UsageError } from '../cli/args.js';
import { PROJECT_ROOT } from '../util/paths.js';
import { formatCpuList, parseCpuList, parseTasksetAffinity } from './cpuList.js';

/**
 * `hft doctor`: checks this box against what a low-latency run needs and says what to change. Each check
 * is OK, WARN (works, costs latency or safety) or BLOCKER (the engine should not run like this: exit 1).
 * The system is read through DoctorSystem so the parsers and thresholds are tested on sample contents.
 */

export type CheckStatus = 'OK' | 'WARN' | 'BLOCKER';

export interface DoctorCheck {
  id: string;
  title: string;
  status: CheckStatus;
  /** what was found */
  value: string;
  /** what to change (absent when nothing) */
  advice?: string;
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

/** How the doctor reads the box. */
export interface DoctorSystem {
  readFile(path: string): string | undefined;
  listDir(path: string): string[];
  run(cmd: string, args: readonly string[]): CommandResult;
  cpuCount: number;
  /** bytes */
  freeMemory: number;
  nodeVersion: string;
  pid: number;
  /** the engines range of package.json */
  enginesRange: string;
  /** resolves when uWebSockets.js loads its native binary, rejects with the loader's error otherwise */
  loadUws(): Promise<void>;
}

// ------------------------------------------------------------------ parsers (pure)

/** `Max open files  <soft>  <hard>  files` of /proc/<pid>/limits. */
export function parseOpenFilesLimit(limits: string): { soft: number; hard: number } | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (!m) return undefined;
  const v = (s: string): number => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: v(m[1]!), hard: v(m[2]!) };
}

/** MemAvailable of /proc/meminfo, in bytes. */
export function parseMemAvailable(meminfo: string): number | undefined {
  const m = /^MemAvailable:\s+(\d+)\s*kB/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : undefined;
}

export interface NtpState {
  /** local clock minus true time, ms (positive = ahead); undefined when not reported */
  offsetMs?: number;
  synchronized?: boolean;
  source: string;
}

/** `chronyc tracking`: "System time : 0.000012 seconds fast of NTP time", "Leap status : Normal". */
export function parseChronyTracking(text: string): NtpState | undefined {
  const m = /^System time\s*:\s*([\d.]+)\s+seconds\s+(fast|slow)/m.exec(text);
  const leap = /^Leap status\s*:\s*(.+)$/m.exec(text);
  if (!m && !leap) return undefined;
  const out: NtpState = { source: 'chronyc tracking' };
  if (m) out.offsetMs = Number(m[1]) * 1000 * (m[2] === 'fast' ? 1 : -1);
  if (leap) out.synchronized = !/not synchronised/i.test(leap[1]!);
  return out;
}

/** `timedatectl timesync-status` (systemd-timesyncd): "Offset: -1.234ms" (also us, s, min). */
export function parseTimesyncStatus(text: string): NtpState | undefined {
  const m = /^\s*Offset:\s*([+-]?[\d.]+)\s*(us|µs|ms|s|min)\b/m.exec(text);
  if (!m) return undefined;
  const scale: Record<string, number> = { us: 1e-3, µs: 1e-3, ms: 1, s: 1000, min: 60_000 };
  return { offsetMs: Number(m[1]) * scale[m[2]!]!, synchronized: true, source: 'timedatectl timesync-status' };
}

/** The scaling governors of every CPU that exposes one: governor -> count. */
export function countGovernors(governors: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const g of governors) out.set(g.trim(), (out.get(g.trim()) ?? 0) + 1);
  return out;
}

/** Does `version` (20.11.1) satisfy a range made of space-separated comparators (>=20.10 <21)? */
export function satisfiesRange(version: string, range: string): boolean {
  const v = parseVersion(version.replace(/^v/, ''));
  if (!v) return false;
  for (const token of range.trim().split(/\s+/)) {
    const m = /^(>=|<=|>|<|=)?v?(\d+(?:\.\d+){0,2})$/.exec(token);
    if (!m) return false;
    const want = parseVersion(m[2]!)!;
    const c = compareVersions(v, want);
    const ok = { '>=': c >= 0, '<=': c <= 0, '>': c > 0, '<': c < 0, '=': c === 0 }[(m[1] ?? '=') as '>=' | '<=' | '>' | '<' | '='];
    if (!ok) return false;
  }
  return true;
}

function parseVersion(s: string): [number, number, number] | undefined {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s);
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

// ------------------------------------------------------------------ checks

const MB = 1024 * 1024;
const CPU_SYS = '/sys/devices/system/cpu';

function checkCores(sys: DoctorSystem): DoctorCheck {
  const n = sys.cpuCount;
  const title = 'CPU cores';
  if (n >= 4) return { id: 'cores', title, status: 'OK', value: `${n}`, advice: 'enough for one core each for feed, strategy and execution: set threads.cpus' };
  if (n >= 2)
    return { id: 'cores', title, status: 'WARN', value: `${n}`, advice: 'fewer than 4 cores: keep threads.strategyWait=spin-then-park (never more spinning threads than cores) and leave pinning off; a dedicated box wants 4+ cores' };
  return { id: 'cores', title, status: 'WARN', value: `${n}`, advice: 'one core: every worker shares it; set threads.strategyWait=park and expect millisecond tails' };
}

function checkIsolated(sys: DoctorSystem): DoctorCheck {
  const title = 'isolated CPUs';
  const text = sys.readFile(`${CPU_SYS}/isolated`);
  if (text === undefined) return { id: 'isolated', title, status: 'WARN', value: 'unknown (no /sys/devices/system/cpu/isolated)', advice: 'not Linux, or /sys is not mounted' };
  let list: number[];
  try {
    list = parseCpuList(text);
  } catch {
    return { id: 'isolated', title, status: 'WARN', value: `unreadable: ${JSON.stringify(text.trim())}` };
  }
  if (list.length > 0) return { id: 'isolated', title, status: 'OK', value: formatCpuList(list), advice: `pin the strategy (and feed) workers there: threads.cpus, e.g. {"strategy":[${list[0]}]}` };
  if (sys.cpuCount >= 4)
    return { id: 'isolated', title, status: 'WARN', value: 'none', advice: 'keep the scheduler off the hot cores: boot with isolcpus=2,3 nohz_full=2,3 rcu_nocbs=2,3 (your core numbers) and pin feed/strategy there with threads.cpus' };
  return { id: 'isolated', title, status: 'OK', value: 'none', advice: 'on fewer than 4 cores isolating one leaves too little for the rest' };
}

function checkGovernor(sys: DoctorSystem): DoctorCheck {
  const title = 'CPU frequency governor';
  const governors: string[] = [];
  for (const d of sys.listDir(CPU_SYS)) {
    if (!/^cpu\d+$/.test(d)) continue;
    const g = sys.readFile(`${CPU_SYS}/${d}/cpufreq/scaling_governor`);
    if (g !== undefined && g.trim() !== '') governors.push(g.trim());
  }
  if (governors.length === 0) return { id: 'governor', title, status: 'OK', value: 'not exposed (a VM or a fixed frequency)' };
  const counts = countGovernors(governors);
  const value = [...counts].map(([g, n]) => `${g} x${n}`).join(', ');
  if (counts.size === 1 && counts.has('performance')) return { id: 'governor', title, status: 'OK', value };
  return { id: 'governor', title, status: 'WARN', value, advice: 'frequency scaling adds wake-up latency: sudo cpupower frequency-set -g performance (and disable deep C-states: intel_idle.max_cstate=1 or a tuned latency-performance profile)' };
}

function checkClocksource(sys: DoctorSystem): DoctorCheck {
  const title = 'clock source';
  const cs = sys.readFile('/sys/devices/system/clocksource/clocksource0/current_clocksource')?.trim();
  if (cs === undefined || cs === '') return { id: 'clocksource', title, status: 'WARN', value: 'unknown', advice: 'cannot read /sys/devices/system/clocksource/clocksource0/current_clocksource' };
  // these are read in user space through the vDSO: a clock read costs tens of ns
  if (['tsc', 'kvm-clock', 'arch_sys_counter', 'hyperv_clocksource_tsc_page'].includes(cs)) {
    return { id: 'clocksource', title, status: 'OK', value: cs, ...(cs === 'tsc' ? {} : { advice: 'fine; tsc is faster still where the host offers a stable one' }) };
  }
  return { id: 'clocksource', title, status: 'WARN', value: cs, advice: `${cs} makes every clock read a system call (about 1 us; the engine reads the clock per frame): use tsc (check dmesg for "tsc unstable"; on a VM pick an instance type with an invariant TSC)` };
}

function checkNtp(sys: DoctorSystem): DoctorCheck {
  const title = 'NTP offset';
  let state: NtpState | undefined;
  const chrony = sys.run('chronyc', ['-n', 'tracking']);
  if (!chrony.error && chrony.status === 0) state = parseChronyTracking(chrony.stdout);
  if (!state) {
    const ts = sys.run('timedatectl', ['timesync-status']);
    if (!ts.error && ts.status === 0) state = parseTimesyncStatus(ts.stdout);
  }
  if (!state) {
    const show = sys.run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value']);
    if (!show.error && show.status === 0 && /^(yes|no)$/.test(show.stdout.trim())) state = { synchronized: show.stdout.trim() === 'yes', source: 'timedatectl show' };
  }
  if (!state) return { id: 'ntp', title, status: 'WARN', value: 'unknown (no chronyc, no timedatectl answer)', advice: 'run chrony (chronyc tracking should show an offset under 1 ms); the venue rejects requests whose timestamp is off by more than recvWindow' };
  const offset = state.offsetMs;
  const value = `${offset === undefined ? 'offset not reported' : `${offset >= 0 ? '+' : ''}${offset.toFixed(3)} ms`}${state.synchronized === false ? ', not synchronised' : ''} (${state.source})`;
  if (offset !== undefined && Math.abs(offset) > 1000) return { id: 'ntp', title, status: 'BLOCKER', value, advice: 'the clock is more than 1 s off: orders would be rejected (-1021) and latencies misread; fix NTP (chronyc makestep) before trading' };
  if (state.synchronized === false) return { id: 'ntp', title, status: 'WARN', value, advice: 'the clock is not synchronised: enable chrony or systemd-timesyncd' };
  if (offset !== undefined && Math.abs(offset) > 10) return { id: 'ntp', title, status: 'WARN', value, advice: 'more than 10 ms off: use chrony with a nearby server (the venue\'s cloud region\'s time service)' };
  return { id: 'ntp', title, status: 'OK', value };
}

function checkFdLimit(sys: DoctorSystem): DoctorCheck {
  const title = 'open-file limit';
  const limits = sys.readFile(`/proc/${sys.pid}/limits`) ?? sys.readFile('/proc/self/limits');
  const l = limits === undefined ? undefined : parseOpenFilesLimit(limits);
  if (!l) return { id: 'fdlimit', title, status: 'WARN', value: 'unknown', advice: 'cannot read /proc/self/limits; check ulimit -n' };
  const value = `soft ${l.soft}, hard ${l.hard}`;
  if (l.soft < 256) return { id: 'fdlimit', title, status: 'BLOCKER', value, advice: 'too few for the sockets, the journal and the control plane: ulimit -n 65536 (LimitNOFILE=65536 in deploy/hft.service)' };
  if (l.soft < 65536) return { id: 'fdlimit', title, status: 'WARN', value, advice: 'raise it before a reconnect storm does: ulimit -n 65536, or LimitNOFILE=65536 in the systemd unit' };
  return { id: 'fdlimit', title, status: 'OK', value };
}

function checkNode(sys: DoctorSystem): DoctorCheck {
  const title = 'Node.js version';
  const value = `${sys.nodeVersion} (engines ${sys.enginesRange})`;
  if (satisfiesRange(sys.nodeVersion, sys.enginesRange)) return { id: 'node', title, status: 'OK', value };
  return { id: 'node', title, status: 'BLOCKER', value, advice: `install a Node.js in ${sys.enginesRange} (the native modules and the measured budgets are for Node 20)` };
}

async function checkUws(sys: DoctorSystem): Promise<DoctorCheck> {
  const title = 'uWebSockets.js native binary';
  try {
    await sys.loadUws();
    return { id: 'uws', title, status: 'OK', value: 'loaded' };
  } catch (e) {
    return { id: 'uws', title, status: 'BLOCKER', value: `failed: ${(e as Error).message.split('\n')[0]}`, advice: 'the control plane and the simulator need it: reinstall with npm ci on this platform and Node version (its binaries are per platform, arch and Node ABI)' };
  }
}

function checkPinning(sys: DoctorSystem): DoctorCheck {
  const title = 'CPU pinning (taskset)';
  const get = sys.run('taskset', ['-p', '-c', String(sys.pid)]);
  if (get.error) return { id: 'pinning', title, status: 'WARN', value: 'taskset not found', advice: 'install util-linux (taskset) to use threads.cpus' };
  const current = parseTasksetAffinity(get.stdout);
  if (get.status !== 0 || !current) return { id: 'pinning', title, status: 'WARN', value: `taskset -p failed: ${get.stderr.trim() || `exit ${get.status}`}`, advice: 'pinning will not work here (container without CAP_SYS_NICE or seccomp): leave threads.cpus empty' };
  // re-applying the current affinity proves sched_setaffinity is allowed without changing anything
  const list = formatCpuList(current);
  const set = sys.run('taskset', ['-p', '-c', list, String(sys.pid)]);
  if (set.error || set.status !== 0) return { id: 'pinning', title, status: 'WARN', value: `affinity ${list}; setting it failed: ${set.stderr.trim() || set.error?.message || `exit ${set.status}`}`, advice: 'sched_setaffinity is refused: leave threads.cpus empty or run with the needed capability' };
  const allowed = current.length < sys.cpuCount ? ` (restricted: ${current.length} of ${sys.cpuCount} CPUs; a cgroup or an outer taskset)` : '';
  return { id: 'pinning', title, status: 'OK', value: `works; process affinity ${list}${allowed}` };
}

function checkMemory(sys: DoctorSystem): DoctorCheck {
  const title = 'available memory';
  const avail = parseMemAvailable(sys.readFile('/proc/meminfo') ?? '') ?? sys.freeMemory;
  const value = `${Math.round(avail / MB)} MB`;
  if (avail < 256 * MB) return { id: 'memory', title, status: 'BLOCKER', value, advice: 'under 256 MB: the workers, their young generations and the journal will not fit; free memory or move host' };
  if (avail < 1024 * MB) return { id: 'memory', title, status: 'WARN', value, advice: 'under 1 GB: swapping would wreck latency; free memory, and disable swap (or vm.swappiness=1)' };
  return { id: 'memory', title, status: 'OK', value };
}

/** Runs every check. */
export async function runDoctor(sys: DoctorSystem): Promise<DoctorCheck[]> {
  return [checkNode(sys), await checkUws(sys), checkCores(sys), checkIsolated(sys), checkGovernor(sys), checkClocksource(sys), checkNtp(sys), checkFdLimit(sys), checkPinning(sys), checkMemory(sys)];
}

function enginesRange(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } };
    return pkg.engines?.node ?? '>=20.10 <21';
  } catch {
    return '>=20.10 <21';
  }
}

/** This box. */
export function localSystem(): DoctorSystem {
  return {
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    listDir: (p) => {
      try {
        return readdirSync(p);
      } catch {
        return [];
      }
    },
    run: (cmd, args) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
      return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ...(r.error ? { error: r.error } : {}) };
    },
    cpuCount: osCpus().length,
    freeMemory: freemem(),
    nodeVersion: process.versions.node,
    pid: process.pid,
    enginesRange: enginesRange(),
    loadUws: async () => {
      await import('uWebSockets.js');
    },
  };
}

export function formatDoctor(checks: readonly DoctorCheck[]): string {
  const titleW = Math.max(...checks.map((c) => c.title.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${`[${c.status}]`.padEnd(9)} ${c.title.padEnd(titleW)}  ${c.value}`);
    if (c.advice && c.status !== 'OK') lines.push(`${' '.repeat(10 + titleW + 2)}-> ${c.advice}`);
  }
  const blockers = checks.filter((c) => c.status === 'BLOCKER').length;
  const warns = checks.filter((c) => c.status === 'WARN').length;
  lines.push('', blockers > 0 ? `${blockers} blocker(s), ${warns} warning(s): fix the blockers before running the engine` : `no blockers, ${warns} warning(s)`);
  return lines.join('\n') + '\n';
}

export const DOCTOR_HELP = `  doctor   Check this box for low-latency trading and say what to change: cores and isolated CPUs,
           CPU governor, clock source, NTP offset, open-file limit, Node version, the uWebSockets.js
           binary, CPU pinning (taskset), available memory. Each check OK / WARN / BLOCKER
             --json             as JSON
           Exit 1 when any check is a BLOCKER
`;

/** `hft doctor`. */
export async function doctorCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  only(args, ['json'], 'doctor');
  if (args.positional.length > 0) throw new UsageError(`hft doctor: unexpected argument ${JSON.stringify(args.positional[0])}`);
  const checks = await runDoctor(localSystem());
  const blockers = checks.filter((c) => c.status === 'BLOCKER').length;
  if (flag(args, 'json')) {
    process.stdout.write(JSON.stringify({ ok: blockers === 0, blockers, warnings: checks.filter((c) => c.status === 'WARN').length, checks }, null, 2) + '\n');
  } else process.stdout.write(formatDoctor(checks));
  return blockers > 0 ? 1 : 0;
}
