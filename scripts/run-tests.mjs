#!/usr/bin/env node
// Runs vitest and ends with one plain line `tests: N passed, N failed` (CI reads it; vitest's own
// summary is not recognised). Exit code follows vitest's.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const outDir = 'test-output';
mkdirSync(outDir, { recursive: true });
const report = join(outDir, 'vitest-report.json');
const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const child = spawn('npx', args, { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  let passed = 0;
  let failed = 0;
  if (existsSync(report)) {
    try {
      const r = JSON.parse(readFileSync(report, 'utf8'));
      passed = r.numPassedTests ?? 0;
      failed = (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0) - (r.numFailedTestSuites && r.numFailedTests ? 0 : 0);
      // A suite that failed to load has no failed tests but must count as a failure.
      const suiteLoadFailures = (r.testResults ?? []).filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0).length;
      failed = (r.numFailedTests ?? 0) + suiteLoadFailures;
    } catch (e) {
      console.error(`could not read ${report}: ${e.message}`);
      failed = Math.max(failed, 1);
    }
  } else {
    failed = 1;
  }
  const rc = code ?? (signal ? 1 : 0);
  if (rc !== 0 && failed === 0) failed = 1;
  console.log(`tests: ${passed} passed, ${failed} failed`);
  process.exit(rc);
});
