#!/usr/bin/env node
// @ts-check
// `npm run load -- <profile>`: one k6 load profile (loadtest/) against the running local stack, its
// results written to the stack's Prometheus through remote write and to
// loadtest/results/<profile>-summary.json. Exit code: k6's (0 all thresholds met, 99 a threshold
// missed), 1 when k6 or the stack is missing, 2 for usage errors.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The profiles of loadtest/profiles.ts, and which services each one loads. */
const PROFILES = {
  smoke: { targets: ['service-a', 'edge'], about: 'every route, 2+1 VUs, 20 s: does it all work?' },
  average: { targets: ['service-a', 'edge'], about: '20 req/s on service-a + 1 image/s on the edge, 7 min' },
  stress: { targets: ['service-a', 'edge'], about: 'steps to 60 and 120 req/s (6 images/s), 13 min' },
  spike: { targets: ['service-a', 'edge'], about: 'a burst from 5 to 200 req/s held 1 min, then recovery, 3 min' },
  soak: { targets: ['service-a', 'edge'], about: 'the average load for 2 h' },
  hash: { targets: ['service-a'], about: 'POST /hash at 60 VUs: 15 s ramp, 120 s hold' },
};

const HELP = `npm run load -- <profile> [--no-remote-write] [-- <k6 run flags>]

  Runs a k6 load profile (loadtest/main.ts) against the local stack started by \`npm start\`.
  Checks first that k6 is installed and that the targets answer /ready.

profiles:
${Object.entries(PROFILES).map(([name, p]) => `  ${name.padEnd(9)} ${p.about}`).join('\n')}

  --no-remote-write   do not send the results to Prometheus
  --list              print the profile names
  --help

  SERVICE_A_URL        service-a (default http://127.0.0.1:8080)
  EDGE_URL             preprocessing-edge (default http://127.0.0.1:5010)
  PROMETHEUS_URL       Prometheus, with --web.enable-remote-write-receiver (default http://127.0.0.1:9090)
  LOAD_DURATION_SCALE  multiplies every duration (e.g. 0.1: a 12 min soak)
  LOAD_RESULTS_DIR     where <profile>-summary.json goes (default loadtest/results)
  LOAD_TESTID          the run's testid tag and baggage entry (default <profile>-<UTC time>)

  Results: the text summary on stdout, the JSON summary file, and in Prometheus the k6_* series
  labelled testid=<testid> (k6_http_reqs_total, k6_http_req_duration_p95, k6_checks_rate, ...).
`;

/** @param {string} msg @param {number} [code] @returns {never} */
function fail(msg, code = 1) {
  process.stderr.write(`load: ${msg}\n`);
  process.exit(code);
}

// ---- arguments
const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const ours = dashdash === -1 ? argv : argv.slice(0, dashdash);
const k6Extra = dashdash === -1 ? [] : argv.slice(dashdash + 1);
let remoteWrite = true;
/** @type {string | undefined} */
let profile;
for (const a of ours) {
  if (a === '--help' || a === '-h') (process.stdout.write(HELP), process.exit(0));
  else if (a === '--list') (process.stdout.write(Object.keys(PROFILES).join('\n') + '\n'), process.exit(0));
  else if (a === '--no-remote-write') remoteWrite = false;
  else if (a.startsWith('-') || profile) fail(`unexpected argument ${a}\n\n${HELP}`, 2);
  else profile = a;
}
const profileList = `profiles: ${Object.keys(PROFILES).join(', ')}`;
if (!profile) fail(`which profile? ${profileList}\n\n${HELP}`, 2);
if (!Object.hasOwn(PROFILES, profile)) fail(`unknown profile "${profile}"; ${profileList}`, 2);
const spec = PROFILES[/** @type {keyof typeof PROFILES} */ (profile)];

// ---- k6
const toolsBin = path.join(process.env.MERIDIAN_TOOLS_DIR || path.join(os.homedir(), '.cache/meridian/tools'), 'bin');
const k6 = path.join(toolsBin, 'k6');
if (!existsSync(k6)) fail(`k6 is not installed (looked for ${k6}): run bash scripts/tools/install.sh k6`);

// ---- targets
/** @param {string} name @param {string} fallback */
function baseUrl(name, fallback) {
  const value = (process.env[name] || fallback).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(value)) fail(`${name} must be an http(s) base URL (got "${value}")`, 2);
  return value;
}
const urls = {
  'service-a': baseUrl('SERVICE_A_URL', 'http://127.0.0.1:8080'),
  edge: baseUrl('EDGE_URL', 'http://127.0.0.1:5010'),
  prometheus: baseUrl('PROMETHEUS_URL', 'http://127.0.0.1:9090'),
};

/** @param {string} url @param {RequestInit} [init] @returns {Promise<{ status: number } | { error: string }>} */
async function probe(url, init = {}) {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return { status: res.status };
  } catch (err) {
    const e = /** @type {{ cause?: { code?: string }, message?: string }} */ (err);
    return { error: e.cause?.code ?? e.message ?? String(err) };
  }
}

for (const target of spec.targets) {
  const url = `${urls[/** @type {'service-a' | 'edge'} */ (target)]}/ready`;
  const r = await probe(url);
  if ('error' in r || r.status !== 200) {
    const why = 'error' in r ? r.error : `HTTP ${r.status}`;
    fail(`${target} is not ready at ${url} (${why}): is the stack running? start it with npm start` +
      ` (or point ${target === 'edge' ? 'EDGE_URL' : 'SERVICE_A_URL'} at it)`);
  }
}
if (remoteWrite) {
  const ready = await probe(`${urls.prometheus}/-/ready`);
  if ('error' in ready || ready.status !== 200) {
    fail(`Prometheus does not answer at ${urls.prometheus} (${'error' in ready ? ready.error : `HTTP ${ready.status}`}): ` +
      'start the stack with npm start, set PROMETHEUS_URL, or run with --no-remote-write');
  }
  // An empty write is refused as malformed (400) when the receiver is on, and 404 when it is off.
  const write = await probe(`${urls.prometheus}/api/v1/write`, { method: 'POST', body: '' });
  if (!('error' in write) && write.status === 404) {
    fail(`Prometheus at ${urls.prometheus} does not accept remote write: run it with --web.enable-remote-write-receiver` +
      ' (npm start does), or run with --no-remote-write');
  }
}

// ---- images for the edge
if (spec.targets.includes('edge')) {
  const { IMAGES, makeImages } = await import('../loadtest/make-images.mjs');
  if (IMAGES.some((/** @type {{ name: string }} */ i) => !existsSync(path.join(ROOT, 'loadtest/images', i.name)))) {
    process.stdout.write('load: making the test images (loadtest/make-images.mjs)\n');
    await makeImages();
  }
}

// ---- run
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const testid = process.env.LOAD_TESTID || `${profile}-${stamp}`;
if (!/^[A-Za-z0-9._-]+$/.test(testid)) fail(`LOAD_TESTID may only hold letters, digits, '.', '_' and '-' (got "${testid}")`, 2);
const resultsDir = path.resolve(process.env.LOAD_RESULTS_DIR || path.join(ROOT, 'loadtest/results'));
mkdirSync(resultsDir, { recursive: true });
const summaryFile = path.join(resultsDir, `${profile}-summary.json`);

/** @type {Record<string, string>} */
const scriptEnv = {
  PROFILE: profile,
  TESTID: testid,
  SERVICE_A_URL: urls['service-a'],
  EDGE_URL: urls.edge,
  SUMMARY_FILE: summaryFile,
};
if (process.env.LOAD_DURATION_SCALE) scriptEnv.LOAD_DURATION_SCALE = process.env.LOAD_DURATION_SCALE;

const args = ['run', '--no-usage-report'];
if (remoteWrite) args.push('-o', 'experimental-prometheus-rw');
for (const [k, v] of Object.entries(scriptEnv)) args.push('-e', `${k}=${v}`);
args.push(...k6Extra, path.join('loadtest', 'main.ts'));

const env = {
  ...process.env,
  // k6 would otherwise report usage to its vendor at the end of each run.
  K6_NO_USAGE_REPORT: 'true',
  K6_PROMETHEUS_RW_SERVER_URL: process.env.K6_PROMETHEUS_RW_SERVER_URL || `${urls.prometheus}/api/v1/write`,
  K6_PROMETHEUS_RW_TREND_STATS: process.env.K6_PROMETHEUS_RW_TREND_STATS || 'p(95),p(99),avg,max',
};
const shown = remoteWrite ? `K6_PROMETHEUS_RW_SERVER_URL=${env.K6_PROMETHEUS_RW_SERVER_URL} K6_PROMETHEUS_RW_TREND_STATS='${env.K6_PROMETHEUS_RW_TREND_STATS}' ` : '';
process.stdout.write(`load: profile ${profile}, testid ${testid}\nload: ${shown}${k6} ${args.map((a) => (/[\s'()]/.test(a) ? `'${a}'` : a)).join(' ')}\n`);

const child = spawn(k6, args, { cwd: ROOT, env, stdio: 'inherit' });
// Ctrl-C reaches k6 directly (same process group) and it stops gracefully; a SIGTERM sent to this
// script alone is passed on, so k6 never outlives it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('error', (err) => fail(`could not run ${k6}: ${err.message}`));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 1)));
