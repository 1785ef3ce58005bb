// @ts-check
// `npm test`: makes the tree runnable, then runs every compiled test file with node's test runner.
// Extra arguments are file filters: `npm test -- service-a hash` runs files whose path has either word.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureAll, ensurePinnedNode, ROOT, step } from './lib/ensure.mjs';

// The Node the images run (versions.env), fetched where this machine's is older.
await ensurePinnedNode();

/** @param {string} dir @returns {string[]} */
function testFiles(dir) {
  let out = /** @type {string[]} */ ([]);
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

ensureAll();
const roots = ['packages', 'services'].flatMap((d) =>
  readdirSync(path.join(ROOT, d)).map((n) => path.join(ROOT, d, n, 'dist/test')),
);
roots.push(path.join(ROOT, 'tests/dist'), path.join(ROOT, 'bench/dist/test'));
const filters = process.argv.slice(2);
const files = roots
  .flatMap(testFiles)
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (files.length === 0) {
  process.stderr.write('no test files found\n');
  process.exit(1);
}
step(`running ${files.length} test files`);
// Two files at a time: each starts real service processes, and these machines have two cores.
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { cwd: ROOT, stdio: 'inherit' });
process.exit(res.status ?? 1);
