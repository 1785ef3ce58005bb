// @ts-check
// `npm run bench [-- [--quick] [comparison ...]]`: builds what is missing, then runs the benchmark
// comparisons (all, or the ones named; `npm run bench -- --list` lists them). See docs/benchmarks.md.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureAll, ensurePinnedNode, ROOT, step } from './lib/ensure.mjs';

// The Node the images run (versions.env), fetched where this machine's is older.
await ensurePinnedNode();

const args = process.argv.slice(2);
const runner = path.join(ROOT, 'bench/dist/src/run.js');
if (!args.includes('--list') && !args.includes('--help')) {
  await ensureAll();
  step('benchmarks (ratios side by side; absolute figures depend on the machine)');
}
// The runner stops every process it started on Ctrl-C; this wrapper only waits for it.
process.on('SIGINT', () => {});
const res = spawnSync(process.execPath, [runner, ...args], { cwd: ROOT, stdio: 'inherit' });
process.exit(res.status ?? 1);
