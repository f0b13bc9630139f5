#!/usr/bin/env node
// npm links the bins of dependencies into node_modules/.bin, not the project's own. Link `hft` there so
// `npx hft ...` works in the project folder right after `npm install`.
import { mkdirSync, symlinkSync, rmSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const binDir = join('node_modules', '.bin');
mkdirSync(binDir, { recursive: true });
const link = join(binDir, 'hft');
rmSync(link, { force: true });
symlinkSync(join('..', '..', 'bin', 'hft.js'), link);
chmodSync(join('bin', 'hft.js'), 0o755);
