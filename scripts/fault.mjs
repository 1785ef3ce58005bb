#!/usr/bin/env node
// @ts-check
// `npm run fault -- <service> <fault> on|off [value]` switches an injected fault in the flag file the
// running services watch (the copy `npm start` made in its run folder); `npm run fault -- list`
// shows every fault. The services pick the change up within about half a second, no restart.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyFault, FAULTS, isOn, listFaults, readFlags, writeFlags } from './lib/faults.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage:
  npm run fault -- list                                  every fault and its state
  npm run fault -- <service> <fault> on [value]          switch a fault on (value: the "on" variant)
  npm run fault -- <service> <fault> off                 switch it off
  npm run fault -- off-all                               switch every fault off
Options: --file FILE  (default: $MERIDIAN_RUN_DIR/flags.json, else .cache/local/flags.json, the copy npm start watches)

Faults: ${Object.keys(FAULTS).join(', ')} (aliases: latency, error)
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

/** @type {import('./lib/faults.mjs').FlagDoc} */
let doc;
try {
  doc = readFlags(file);
} catch (err) {
  die(`${file} is not a valid flag file: ${err instanceof Error ? err.message : err}`);
}
const save = () => writeFlags(file, doc);

const command = args[0];
if (command === 'list') {
  const rows = [['service', 'fault', 'state', 'value', 'on-value', 'alert']];
  for (const f of listFaults(doc)) rows.push([f.service, f.fault, f.on ? 'ON' : 'off', String(f.value), String(f.onValue), f.alert ?? '-']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  process.stdout.write(`\n${listFaults(doc).filter((f) => f.on).length} on; file ${file}\n`);
  process.exit(0);
}
if (command === 'off-all') {
  for (const f of Object.values(doc.flags)) f.defaultVariant = 'off';
  save();
  process.stdout.write(`every fault off (${file})\n`);
  process.exit(0);
}

const [service, rawFault, state, rawValue] = args;
if (!service || !rawFault || !state) die(`expected <service> <fault> on|off [value]\n\n${USAGE}`);
const result = applyFault(doc, service, rawFault, state, rawValue);
if (!result.ok) die(result.error);
save();
const { key, flag } = result;
const fault = key.slice(key.indexOf('.') + 1);
const info = FAULTS[fault];
const shown = typeof flag.variants.on === 'boolean' ? '' : ` = ${flag.variants[flag.defaultVariant]}`;
process.stdout.write(`${key} ${state}${shown}  (${info?.hint ?? fault})\n  ${file}\n`);
if (state === 'on' && info) process.stdout.write(`  symptom: ${info.symptom}\n  alert:   ${info.alert ?? 'none'}${info.alert ? ` (docs/runbooks/${info.alert}.md)` : ''}\n`);
const share = doc.flags[`${service}.latency-share`];
if (state === 'on' && fault === 'latency-ms' && !(share && isOn(share))) {
  process.stdout.write('  every request is delayed; `latency-share on 0.25` limits it to a share\n');
}
if (state === 'on' && info?.unsafe) {
  process.stdout.write('  acts only where FAULTS_UNSAFE_ENABLED=true (npm start sets it); elsewhere fault_active stays 0\n');
}
