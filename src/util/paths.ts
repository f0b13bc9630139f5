import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder above this file holding package.json (works from src/ and dist/). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the project root (package.json)');
}

export const PROJECT_ROOT = findRoot();
export const BIN_PATH = join(PROJECT_ROOT, 'bin', 'hft.js');

/** Compiled worker entry files: workers always run from dist/ (tests import the TS sources). */
export function workerFile(name: 'feed' | 'strategy' | 'execution'): string {
  const f = join(PROJECT_ROOT, 'dist', 'workers', `${name}.js`);
  if (!existsSync(f)) throw new Error(`${f} is missing: run \`npm run build\` first`);
  return f;
}
