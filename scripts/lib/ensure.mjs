// @ts-check
// Makes a fresh clone runnable: dependencies, TypeScript build, generated ONNX models.
// Everything is skipped when already up to date, so `npm start` and `npm test` stay fast.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
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

export function ensureModels() {
  const cli = path.join(ROOT, 'services/inference/dist/src/models/generate-cli.js');
  if (!existsSync(cli)) return;
  run(process.execPath, [cli]);
}

/** What the local run (`npm start`) needs; the tests and benches take every tool. */
export const LOCAL_RUN_TOOLS = ['otelcol', 'jaeger', 'prometheus', 'alertmanager', 'nginx', 'openssl'];

/** The pinned tools of scripts/tools/install.sh (cached outside the checkout): these, or all of them. */
export function ensureTools(/** @type {string[]} */ names = []) {
  step(`checking ${names.length ? 'pipeline tools' : 'tools'} (scripts/tools/install.sh${names.length ? ` ${names.join(' ')}` : ''}; the first run builds them)`);
  run('bash', [path.join(ROOT, 'scripts/tools/install.sh'), ...names]);
}

/** @param {{ tools?: boolean | string[] }} [opts] tools: true = all, a list = those, false = none */
export function ensureAll({ tools = true } = {}) {
  ensureDependencies();
  ensureBuild();
  ensureModels();
  if (tools) ensureTools(Array.isArray(tools) ? tools : []);
}
