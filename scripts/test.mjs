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

await ensureAll();
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
// The files that build images and run containers or a cluster run after the others, one at a time:
// two image builds at once on two cores would only slow both, and they share one Docker engine,
// which is started here (when none answers) and stopped at the end, so that no test stops it under
// another. The rest run two files at a time: each starts real service processes.
const heavy = files.filter((f) => /[/\\]tests[/\\]dist[/\\](containers|cluster)[/\\]/.test(f));
const light = files.filter((f) => !heavy.includes(f));
/** @param {string[]} group @param {number} concurrency */
const runFiles = (group, concurrency) =>
  group.length === 0 ? 0 : (spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...group], { cwd: ROOT, stdio: 'inherit' }).status ?? 1);

step(`running ${files.length} test files${heavy.length ? ` (${heavy.length} with containers, after the others, one at a time)` : ''}`);
const seconds = (/** @type {number} */ t0) => `${Math.round((Date.now() - t0) / 1000)} s`;
let t0 = Date.now();
let status = runFiles(light, 2);
if (light.length) step(`${light.length} test files in ${seconds(t0)}`);
if (heavy.length) {
  const engine = path.join(ROOT, 'scripts/tools/docker-engine.sh');
  const startEngine = process.env.MERIDIAN_SKIP_CONTAINERS !== '1' && !process.env.DOCKER_HOST && spawnSync('bash', [engine, 'status'], { stdio: 'ignore' }).status !== 0;
  if (startEngine) {
    step('starting the private Docker engine (scripts/tools/docker-engine.sh) for the container tests');
    if (spawnSync('bash', [engine, 'start'], { cwd: ROOT, stdio: 'inherit' }).status !== 0) process.stderr.write('the Docker engine did not start; the container tests will say why\n');
  }
  t0 = Date.now();
  try {
    status = runFiles(heavy, 1) || status;
    step(`${heavy.length} container and cluster test files in ${seconds(t0)}`);
  } finally {
    if (startEngine) spawnSync('bash', [engine, 'stop'], { cwd: ROOT, stdio: 'inherit' });
  }
}
process.exit(status);
