// @ts-check
// `npm run bench [-- --quick]`: builds what is missing, then runs the benchmark comparisons.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureAll, ROOT, step } from './lib/ensure.mjs';

ensureAll();
step('benchmarks (ratios side by side; absolute figures depend on the machine)');
const res = spawnSync(process.execPath, [path.join(ROOT, 'bench/dist/src/run.js'), ...process.argv.slice(2)], { cwd: ROOT, stdio: 'inherit' });
process.exit(res.status ?? 1);
