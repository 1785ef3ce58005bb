#!/usr/bin/env node
// @ts-check
// `npm run fault -- <service> <fault> on|off [value]` switches an injected fault in the flag file the
// running services watch (the copy `npm start` made in its run folder); `npm run fault -- list`
// shows every fault. The services pick the change up within about half a second, no restart.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALIASES = { latency: 'latency-ms', error: 'error-share', errors: 'error-share', share: 'latency-share' };
const UNSAFE = new Set(['crash', 'cpu-hog', 'memory-growth']);
const HINTS = {
  'latency-ms': 'added delay in ms',
  'latency-share': 'share (0..1) of requests delayed; off = all',
  'error-share': 'share (0..1) of requests answered 500',
  crash: 'the process exits (and is restarted)',
  'cpu-hog': 'share (0..0.95) of a core burnt',
  'memory-growth': 'MiB per second retained',
  'downstream-unreachable': 'outbound calls fail as unreachable',
  'readiness-fail': '/ready answers 503',
};

const USAGE = `Usage:
  npm run fault -- list                                  every fault and its state
  npm run fault -- <service> <fault> on [value]          switch a fault on (value: the "on" variant)
  npm run fault -- <service> <fault> off                 switch it off
  npm run fault -- off-all                               switch every fault off
Options: --file FILE  (default: $MERIDIAN_RUN_DIR/flags.json, else .cache/local/flags.json, the copy npm start watches)

Faults: ${Object.keys(HINTS).join(', ')} (aliases: latency, error)
Examples:
  npm run fault -- service-b latency-ms on 800
  npm run fault -- service-b latency-share on 0.25
  npm run fault -- service-a error-share on 0.5
  npm run fault -- inference-mobilenetv2 crash on
  npm run fault -- service-a readiness-fail off
`;

/** @param {string} msg */
function die(msg) {
  process.stderr.write(`fault: ${msg}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let file = path.join(process.env.MERIDIAN_RUN_DIR ? path.resolve(process.env.MERIDIAN_RUN_DIR) : path.join(ROOT, '.cache/local'), 'flags.json');
const fileAt = args.indexOf('--file');
if (fileAt !== -1) {
  if (!args[fileAt + 1]) die('--file needs a path');
  file = path.resolve(args[fileAt + 1]);
  args.splice(fileAt, 2);
}
if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(args.length === 0 ? 2 : 0);
}
if (!existsSync(file)) die(`no flag file at ${file}: is \`npm start\` running? (or pass --file)`);

/** @typedef {{ state: string, variants: Record<string, number | boolean>, defaultVariant: string }} Flag */
/** @type {{ flags: Record<string, Flag> }} */
let doc;
try {
  doc = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  die(`${file} is not valid JSON: ${err instanceof Error ? err.message : err}`);
}
const flags = doc.flags ?? {};
const services = [...new Set(Object.keys(flags).map((k) => k.slice(0, k.indexOf('.'))))].sort();

/** @param {Flag} f */
const isOn = (f) => f.state === 'ENABLED' && f.defaultVariant === 'on';

function save() {
  // Written next to the file and renamed over it, so a service never reads half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
  renameSync(tmp, file);
}

const command = args[0];
if (command === 'list') {
  const rows = [['service', 'fault', 'state', 'value', 'on-value']];
  for (const [key, f] of Object.entries(flags).sort(([a], [b]) => a.localeCompare(b))) {
    const dot = key.indexOf('.');
    const value = f.variants[f.state === 'ENABLED' ? f.defaultVariant : 'off'];
    rows.push([key.slice(0, dot), key.slice(dot + 1), isOn(f) ? 'ON' : 'off', String(value), String(f.variants.on)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  process.stdout.write(`\n${Object.values(flags).filter(isOn).length} on; file ${file}\n`);
  process.exit(0);
}
if (command === 'off-all') {
  for (const f of Object.values(flags)) f.defaultVariant = 'off';
  save();
  process.stdout.write(`every fault off (${file})\n`);
  process.exit(0);
}

const [service, rawFault, state, rawValue] = args;
const fault = ALIASES[/** @type {keyof typeof ALIASES} */ (rawFault)] ?? rawFault;
if (!service || !rawFault || !state) die(`expected <service> <fault> on|off [value]\n\n${USAGE}`);
if (!services.includes(service)) die(`unknown service ${JSON.stringify(service)}; one of ${services.join(', ')}`);
const key = `${service}.${fault}`;
const flag = flags[key];
if (!flag) die(`unknown fault ${JSON.stringify(rawFault)}; one of ${Object.keys(HINTS).join(', ')}`);
if (state !== 'on' && state !== 'off') die(`state must be on or off (got ${JSON.stringify(state)})`);

if (state === 'on') {
  if (rawValue !== undefined) {
    if (typeof flag.variants.off === 'boolean') die(`${fault} is on or off; it takes no value`);
    const n = Number(rawValue);
    if (rawValue.trim() === '' || !Number.isFinite(n) || n < 0) die(`value must be a number >= 0 (got ${JSON.stringify(rawValue)})`);
    flag.variants.on = n;
  }
  flag.state = 'ENABLED';
  flag.defaultVariant = 'on';
} else {
  flag.defaultVariant = 'off';
}
save();
const shown = typeof flag.variants.on === 'boolean' ? '' : ` = ${flag.variants[flag.defaultVariant]}`;
process.stdout.write(`${key} ${state}${shown}  (${HINTS[/** @type {keyof typeof HINTS} */ (fault)] ?? fault})\n  ${file}\n`);
if (state === 'on' && fault === 'latency-ms' && !isOn(flags[`${service}.latency-share`])) {
  process.stdout.write('  every request is delayed; `latency-share on 0.25` limits it to a share\n');
}
if (state === 'on' && UNSAFE.has(fault)) {
  process.stdout.write('  acts only where FAULTS_UNSAFE_ENABLED=true (npm start sets it); elsewhere fault_active stays 0\n');
}
