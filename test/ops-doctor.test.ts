import { describe, expect, it, vi } from 'vitest';
import {
  countGovernors,
  doctorCommand,
  parseChronyTracking,
  parseMemAvailable,
  parseOpenFilesLimit,
  parseTimesyncStatus,
  runDoctor,
  satisfiesRange,
  type CommandResult,
  type DoctorCheck,
  type DoctorSystem,
} from '../src/ops/doctor.js';
import { formatCpuList, parseCpuList, parseTasksetAffinity } from '../src/ops/cpuList.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

const CHRONY = `Reference ID    : A9FEA97B (169.254.169.123)
Stratum         : 4
Ref time (UTC)  : Thu Jan 01 00:00:00 2026
System time     : 0.000012345 seconds slow of NTP time
Last offset     : -0.000003000 seconds
RMS offset      : 0.000010000 seconds
Leap status     : Normal
`;

const TIMESYNC = `       Server: 192.0.2.1 (ntp.example)
Poll interval: 34min 8s (min: 32s; max 34min 8s)
         Leap: normal
      Version: 4
       Stratum: 2
       Offset: -1.523ms
        Delay: 20.4ms
`;

describe('doctor parsers', () => {
  it('CPU lists', () => {
    expect(parseCpuList('')).toEqual([]);
    expect(parseCpuList('2-3,6\n')).toEqual([2, 3, 6]);
    expect(parseCpuList('0,0,1')).toEqual([0, 1]);
    expect(() => parseCpuList('a-b')).toThrow();
    expect(() => parseCpuList('3-1')).toThrow();
    expect(formatCpuList([6, 0, 1, 2, 3, 9, 10])).toBe('0-3,6,9,10');
    expect(formatCpuList([])).toBe('');
    expect(parseTasksetAffinity("pid 42's current affinity list: 0-2,5\n")).toEqual([0, 1, 2, 5]);
    expect(parseTasksetAffinity("pid 42's new affinity list: 1")).toEqual([1]);
    expect(parseTasksetAffinity('taskset: failed')).toBeUndefined();
  });

  it('/proc/self/limits and /proc/meminfo', () => {
    expect(parseOpenFilesLimit(LIMITS)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFilesLimit('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFilesLimit('nothing')).toBeUndefined();
    expect(parseMemAvailable('MemTotal:  2048000 kB\nMemFree:  100 kB\nMemAvailable:    1024 kB\n')).toBe(1024 * 1024);
    expect(parseMemAvailable('MemTotal: 1 kB')).toBeUndefined();
  });

  it('chronyc tracking and timedatectl timesync-status', () => {
    const c = parseChronyTracking(CHRONY)!;
    expect(c.offsetMs).toBeCloseTo(-0.012345, 9);
    expect(c.synchronized).toBe(true);
    expect(parseChronyTracking('System time     : 1.5 seconds fast of NTP time\nLeap status     : Not synchronised')).toEqual({ offsetMs: 1500, synchronized: false, source: 'chronyc tracking' });
    expect(parseChronyTracking('506 Cannot talk to daemon')).toBeUndefined();
    expect(parseTimesyncStatus(TIMESYNC)!.offsetMs).toBeCloseTo(-1.523, 9);
    expect(parseTimesyncStatus('Offset: +250us')!.offsetMs).toBeCloseTo(0.25, 9);
    expect(parseTimesyncStatus('Offset: 2s')!.offsetMs).toBe(2000);
    expect(parseTimesyncStatus('Server: x')).toBeUndefined();
  });

  it('governors and the engines range', () => {
    expect([...countGovernors(['performance\n', 'powersave', 'performance'])]).toEqual([['performance', 2], ['powersave', 1]]);
    expect(satisfiesRange('20.10.0', '>=20.10 <21')).toBe(true);
    expect(satisfiesRange('v20.20.2', '>=20.10 <21')).toBe(true);
    expect(satisfiesRange('20.9.0', '>=20.10 <21')).toBe(false);
    expect(satisfiesRange('21.0.0', '>=20.10 <21')).toBe(false);
    expect(satisfiesRange('22.1.0', '>=20.10 <21')).toBe(false);
    expect(satisfiesRange('20.10.0', 'garbage')).toBe(false);
  });
});

/** A box described by file contents and command answers. */
function fakeSystem(over: Partial<DoctorSystem> & { files?: Record<string, string>; commands?: Record<string, CommandResult> } = {}): DoctorSystem {
  const files = over.files ?? {};
  const commands = over.commands ?? {};
  const missing: CommandResult = { status: null, stdout: '', stderr: '', error: new Error('spawnSync ENOENT') };
  return {
    readFile: (p) => files[p],
    listDir: (p) => [...new Set(Object.keys(files).filter((f) => f.startsWith(p + '/')).map((f) => f.slice(p.length + 1).split('/')[0]!))],
    run: (cmd, args) => commands[[cmd, ...args].join(' ')] ?? missing,
    cpuCount: 8,
    freeMemory: 8 * 1024 ** 3,
    nodeVersion: '20.12.0',
    pid: 77,
    enginesRange: '>=20.10 <21',
    loadUws: () => Promise.resolve(),
    ...over,
  };
}

const byId = (checks: DoctorCheck[], id: string): DoctorCheck => checks.find((c) => c.id === id)!;

describe('doctor checks on described boxes', () => {
  it('a tuned dedicated box passes every check', async () => {
    const checks = await runDoctor(
      fakeSystem({
        files: {
          '/sys/devices/system/cpu/isolated': '2-5\n',
          '/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor': 'performance\n',
          '/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor': 'performance\n',
          '/sys/devices/system/clocksource/clocksource0/current_clocksource': 'tsc\n',
          '/proc/77/limits': LIMITS.replace('1024                 524288', '1048576              1048576'),
          '/proc/meminfo': 'MemAvailable:   8000000 kB\n',
        },
        commands: {
          'chronyc -n tracking': { status: 0, stdout: CHRONY, stderr: '' },
          'taskset -p -c 77': { status: 0, stdout: "pid 77's current affinity list: 0-7\n", stderr: '' },
          'taskset -p -c 0-7 77': { status: 0, stdout: "pid 77's current affinity list: 0-7\npid 77's new affinity list: 0-7\n", stderr: '' },
        },
      }),
    );
    expect(checks.map((c) => c.id)).toEqual(['node', 'uws', 'cores', 'isolated', 'governor', 'clocksource', 'ntp', 'fdlimit', 'pinning', 'memory']);
    expect(checks.filter((c) => c.status !== 'OK')).toEqual([]);
    expect(byId(checks, 'isolated').value).toBe('2-5');
    expect(byId(checks, 'ntp').value).toMatch(/-0\.012 ms \(chronyc tracking\)/);
  });

  it('an untuned box gets warnings with advice, and blockers where it cannot run', async () => {
    const checks = await runDoctor(
      fakeSystem({
        nodeVersion: '18.19.0',
        loadUws: () => Promise.reject(new Error('This version of uWS.js supports only Node.js 20 on (glibc) Linux')),
        files: {
          '/sys/devices/system/cpu/isolated': '\n',
          '/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor': 'powersave\n',
          '/sys/devices/system/cpu/cpu1/cpufreq/scaling_governor': 'performance\n',
          '/sys/devices/system/clocksource/clocksource0/current_clocksource': 'hpet\n',
          '/proc/77/limits': LIMITS.replace('1024                 524288', '128                  4096'),
          '/proc/meminfo': 'MemAvailable:   102400 kB\n',
        },
        commands: {
          'chronyc -n tracking': { status: 0, stdout: 'System time     : 2.5 seconds fast of NTP time\nLeap status     : Normal\n', stderr: '' },
          'taskset -p -c 77': { status: 1, stdout: '', stderr: 'taskset: failed to get pid 77 affinity: Operation not permitted' },
        },
      }),
    );
    const status = Object.fromEntries(checks.map((c) => [c.id, c.status]));
    expect(status).toEqual({ node: 'BLOCKER', uws: 'BLOCKER', cores: 'OK', isolated: 'WARN', governor: 'WARN', clocksource: 'WARN', ntp: 'BLOCKER', fdlimit: 'BLOCKER', pinning: 'WARN', memory: 'BLOCKER' });
    for (const c of checks.filter((x) => x.status !== 'OK')) expect(c.advice, c.id).toBeTruthy();
    expect(byId(checks, 'governor').value).toBe('powersave x1, performance x1');
    expect(byId(checks, 'governor').advice).toMatch(/cpupower frequency-set -g performance/);
    expect(byId(checks, 'uws').value).toMatch(/only Node\.js 20/);
  });

  it('says unknown when there is nothing to read', async () => {
    const checks = await runDoctor(fakeSystem({ cpuCount: 2 }));
    expect(byId(checks, 'ntp')).toMatchObject({ status: 'WARN', value: expect.stringMatching(/^unknown/) });
    expect(byId(checks, 'pinning')).toMatchObject({ status: 'WARN', value: 'taskset not found' });
    expect(byId(checks, 'governor').status).toBe('OK');
    expect(byId(checks, 'cores').status).toBe('WARN');
    expect(byId(checks, 'clocksource').status).toBe('WARN');
  });
});

describe('hft doctor on this box', () => {
  it('prints every check as JSON; Node and uWebSockets.js pass', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    });
    let code: number;
    try {
      code = await doctorCommand(['--json']);
    } finally {
      spy.mockRestore();
    }
    const r = JSON.parse(out) as { ok: boolean; blockers: number; warnings: number; checks: DoctorCheck[] };
    expect(r.checks.map((c) => c.id)).toEqual(['node', 'uws', 'cores', 'isolated', 'governor', 'clocksource', 'ntp', 'fdlimit', 'pinning', 'memory']);
    for (const c of r.checks) {
      expect(['OK', 'WARN', 'BLOCKER']).toContain(c.status);
      expect(c.value.length).toBeGreaterThan(0);
      if (c.status !== 'OK') expect(c.advice, c.id).toBeTruthy();
    }
    expect(byId(r.checks, 'node').status).toBe('OK');
    expect(byId(r.checks, 'uws')).toMatchObject({ status: 'OK', value: 'loaded' });
    expect(r.blockers).toBe(r.checks.filter((c) => c.status === 'BLOCKER').length);
    expect(code).toBe(r.blockers > 0 ? 1 : 0);
    expect(r.ok).toBe(r.blockers === 0);
  });
});
