import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Project root (the folder holding package.json). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The shared fixtures folder beside the project (absent on a user's clone: tests skip with a message). */
export const SHARED_FIXTURES = resolve(PROJECT_ROOT, '../shared/fixtures');
export const HAVE_SHARED_FIXTURES = existsSync(join(SHARED_FIXTURES, 'MANIFEST.md'));
export const NO_FIXTURES_MESSAGE = `shared fixtures not found at ${SHARED_FIXTURES}: skipping tests on recorded exchange messages`;

if (!HAVE_SHARED_FIXTURES) console.warn(NO_FIXTURES_MESSAGE);

export function fixturePath(rel: string): string {
  return join(SHARED_FIXTURES, rel);
}

/** Lines of a .jsonl fixture, as raw strings (byte-exact text of each message). */
export function fixtureLines(rel: string): string[] {
  return readFileSync(fixturePath(rel), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0);
}
