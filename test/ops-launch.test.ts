import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/ConfigError.js';
import { formatPinOutcomes, launchPlan, listThreads, pinEngineThreads, pinThreads, shellQuote, validateNodeFlags, validateThreadCpus, type CommandRunner } from '../src/ops/launch.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fake /proc/<pid>/task directory: tid -> comm. */
function taskDir(threads: Record<number, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'ops-launch-'));
  dirs.push(d);
  for (const [tid, name] of Object.entries(threads)) {
    mkdirSync(join(d, tid));
    writeFileSync(join(d, tid, 'comm'), name + '\n');
  }
  return d;
}

describe('launch config validation', () => {
  it('threads.cpus', () => {
    expect(validateThreadCpus(undefined)).toEqual({});
    expect(validateThreadCpus({ feed: [1], strategy: [2, 3] })).toEqual({ feed: [1], strategy: [2, 3] });
    expect(() => validateThreadCpus({ journal: [1] })).toThrow(ConfigError);
    expect(() => validateThreadCpus({ journal: [1] })).toThrow(/threads\.cpus\.journal is not a worker/);
    expect(() => validateThreadCpus({ feed: [] })).toThrow(/non-empty array/);
    expect(() => validateThreadCpus({ feed: [1.5] })).toThrow(/integers 0\.\.4095; got 1\.5/);
    expect(() => validateThreadCpus({ feed: [1, 1] })).toThrow(/CPU 1 twice/);
    expect(() => validateThreadCpus([1])).toThrow(/must be an object/);
  });

  it('node.flags', () => {
    expect(validateNodeFlags(undefined)).toEqual([]);
    expect(validateNodeFlags(['--max-semi-space-size=64', '--no-opt'])).toEqual(['--max-semi-space-size=64', '--no-opt']);
    expect(() => validateNodeFlags('--x')).toThrow(/must be an array/);
    expect(() => validateNodeFlags(['--a b'])).toThrow(/node\.flags\[0\]/);
    expect(() => validateNodeFlags(['-e'])).toThrow(/node\.flags\[0\]/);
  });
});

describe('launchPlan', () => {
  it('builds the taskset prefix, command line, systemd affinity and pin map', () => {
    const p = launchPlan({
      cpus: { feed: [2], strategy: [3], execution: [4, 5] },
      nodeFlags: ['--max-semi-space-size=64'],
      args: ['run', '--config', 'config/low-latency.json'],
      availableCpus: [0, 1, 2, 3, 4, 5],
    });
    expect(p.processCpus).toEqual([2, 3, 4, 5]);
    expect(p.tasksetPrefix).toEqual(['taskset', '-c', '2-5']);
    expect(p.argv).toEqual(['taskset', '-c', '2-5', 'node', '--max-semi-space-size=64', 'bin/hft.js', 'run', '--config', 'config/low-latency.json']);
    expect(p.commandLine).toBe('taskset -c 2-5 node --max-semi-space-size=64 bin/hft.js run --config config/low-latency.json');
    expect(p.systemdCpuAffinity).toBe('2-5');
    expect(p.pinMap).toEqual({ 'hft-feed': [2], 'hft-strategy': [3], 'hft-execution': [4, 5] });
    expect(p.warnings).toEqual([]);
  });

  it('without pinning: no taskset; warns about missing and shared strategy CPUs', () => {
    expect(launchPlan({ cpus: {}, nodeFlags: [] }).argv).toEqual(['node', 'bin/hft.js', 'run', '--config', 'config/default.json']);
    const p = launchPlan({ cpus: { strategy: [1], feed: [1, 7] }, nodeFlags: [], availableCpus: [0, 1] });
    expect(p.systemdCpuAffinity).toBe('1 7');
    expect(p.warnings).toEqual([
      'threads.cpus.feed: CPU 7 is not available here (available: 0,1)',
      'CPU 1 is shared by feed and strategy: keep the strategy worker alone on its core when it spins',
    ]);
  });

  it('quotes for the shell', () => {
    expect(shellQuote('config/a.json')).toBe('config/a.json');
    expect(shellQuote("it's here")).toBe(`'it'\\''s here'`);
  });
});

describe('pinThreads', () => {
  it('pins the named threads with taskset -p -c and reports each outcome', () => {
    const dir = taskDir({ 100: 'node', 101: 'hft-feed', 102: 'hft-strategy', 103: 'libuv-worker' });
    const calls: string[] = [];
    const run: CommandRunner = (cmd, args) => {
      calls.push([cmd, ...args].join(' '));
      if (args[3] === '102') return { status: 1, stdout: '', stderr: 'taskset: failed to set pid 102 affinity: Invalid argument' };
      return { status: 0, stdout: `pid ${args[3]}'s current affinity list: 0-3\npid ${args[3]}'s new affinity list: ${args[2]}\n`, stderr: '' };
    };
    const out = pinEngineThreads({ feed: [2], strategy: [9], execution: [3] }, { taskDir: dir, run });
    expect(calls).toEqual(['taskset -p -c 2 101', 'taskset -p -c 9 102']);
    expect(out).toEqual([
      { name: 'hft-feed', cpus: [2], tid: 101, ok: true, affinity: [2] },
      { name: 'hft-strategy', cpus: [9], tid: 102, ok: false, error: 'taskset failed: taskset: failed to set pid 102 affinity: Invalid argument' },
      { name: 'hft-execution', cpus: [3], ok: false, error: 'no thread named hft-execution (the worker must call nameCurrentThread at start)' },
    ]);
    expect(formatPinOutcomes(out).split('\n')).toEqual([
      'pinned hft-feed (tid 101) to CPUs 2',
      'not pinned hft-strategy (tid 102): taskset failed: taskset: failed to set pid 102 affinity: Invalid argument',
      'not pinned hft-execution: no thread named hft-execution (the worker must call nameCurrentThread at start)',
    ]);
  });

  it('reports a missing taskset instead of throwing', () => {
    const dir = taskDir({ 5: 'hft-feed' });
    const out = pinThreads({ 'hft-feed': [0] }, { taskDir: dir, run: () => ({ status: null, stdout: '', stderr: '', error: new Error('spawnSync taskset ENOENT') }) });
    expect(out).toEqual([{ name: 'hft-feed', cpus: [0], tid: 5, ok: false, error: 'taskset failed: spawnSync taskset ENOENT' }]);
  });

  it.runIf(process.platform === 'linux')('names a real worker thread and pins it on this box', async () => {
    const src = `
      const { parentPort } = require('node:worker_threads');
      const fs = require('node:fs');
      fs.writeFileSync('/proc/thread-self/comm', 'hft-opstest');
      parentPort.postMessage(Number(fs.readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]));
      setInterval(() => {}, 1000);`;
    const w = new Worker(src, { eval: true });
    try {
      const tid = await new Promise<number>((resolve, reject) => {
        w.once('message', (m: number) => resolve(m));
        w.once('error', reject);
      });
      expect(listThreads().find((t) => t.tid === tid)?.name).toBe('hft-opstest');
      const out = pinThreads({ 'hft-opstest': [0] });
      expect(out).toHaveLength(1);
      expect(out[0]!.tid).toBe(tid);
      // taskset may be absent or refused in a container: then the outcome says so
      if (out[0]!.ok) expect(out[0]!.affinity).toEqual([0]);
      else expect(out[0]!.error).toMatch(/taskset failed/);
    } finally {
      await w.terminate();
    }
  });
});
