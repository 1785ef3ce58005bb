// observability/flags/flags.json: a valid flagd flag file (checked by flagd's own schema validator,
// the one flagd-core runs), one flag per service and fault, all off; and the
// `npm run fault` CLI that edits it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStorage } from '@openfeature/flagd-core';
import { FLAG_SPECS, NO_FAULTS } from '@meridian/service-kit';
import { REPO_ROOT } from '@meridian/test-kit';

const FILE = path.join(REPO_ROOT, 'observability/flags/flags.json');
const SERVICES = ['service-a', 'service-b', 'preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

type FlagFile = { $schema: string; flags: Record<string, { state: string; variants: Record<string, number | boolean>; defaultVariant: string }> };

/** Strict validation against the flagd flag-file schema (throws with the schema errors). */
function validateFlagd(text: string): void {
  new MemoryStorage(silent).setConfigurations(text, true);
}

function fault(file: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/fault.mjs'), ...args, '--file', file], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('flags.json is a valid flagd file with every fault of every service, all off', () => {
  const text = readFileSync(FILE, 'utf8');
  validateFlagd(text);
  assert.throws(() => validateFlagd(text.replace('"defaultVariant": "off"', '"defaultVariant": 3')), /invalid flagd flag configuration/);
  const doc = JSON.parse(text) as FlagFile;
  assert.equal(doc.$schema, 'https://flagd.dev/schema/v0/flags.json');
  const expected = SERVICES.flatMap((s) => FLAG_SPECS.map((f) => `${s}.${f.suffix}`)).sort();
  assert.deepEqual(Object.keys(doc.flags).sort(), expected);
  for (const [key, flag] of Object.entries(doc.flags)) {
    const spec = FLAG_SPECS.find((f) => key.endsWith(`.${f.suffix}`))!;
    assert.equal(flag.state, 'ENABLED', key);
    assert.equal(flag.defaultVariant, 'off', `${key} is off by default`);
    assert.deepEqual(Object.keys(flag.variants).sort(), ['off', 'on'], key);
    assert.equal(flag.variants.off, NO_FAULTS[spec.field], `${key}: "off" means no fault`);
    assert.equal(typeof flag.variants.on, spec.type, key);
  }
});

test('npm run fault: list, on with a value, off, off-all; the result stays a valid flagd file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-fault-cli-'));
  const file = path.join(dir, 'flags.json');
  try {
    copyFileSync(FILE, file);
    const list = fault(file, 'list');
    assert.equal(list.code, 0);
    assert.match(list.out, /service-b\s+latency-ms\s+off\s+0\s+500/);
    assert.match(list.out, /0 on; file /);

    assert.equal(fault(file, 'service-b', 'latency-ms', 'on', '800').code, 0);
    assert.equal(fault(file, 'service-a', 'error', 'on').code, 0, 'alias error = error-share');
    assert.equal(fault(file, 'inference-mobilenetv2', 'crash', 'on').code, 0);
    let doc = JSON.parse(readFileSync(file, 'utf8')) as FlagFile;
    validateFlagd(readFileSync(file, 'utf8'));
    assert.deepEqual(doc.flags['service-b.latency-ms'].variants, { off: 0, on: 800 });
    assert.equal(doc.flags['service-b.latency-ms'].defaultVariant, 'on');
    assert.equal(doc.flags['service-a.error-share'].defaultVariant, 'on');
    assert.equal(doc.flags['inference-mobilenetv2.crash'].defaultVariant, 'on');
    assert.match(fault(file, 'list').out, /3 on; file /);

    assert.equal(fault(file, 'service-b', 'latency-ms', 'off').code, 0);
    doc = JSON.parse(readFileSync(file, 'utf8')) as FlagFile;
    assert.equal(doc.flags['service-b.latency-ms'].defaultVariant, 'off');
    assert.equal(doc.flags['service-b.latency-ms'].variants.on, 800, 'the value is kept for the next "on"');

    for (const [args, message] of [
      [['service-z', 'crash', 'on'], /unknown service/],
      [['service-a', 'explode', 'on'], /unknown fault/],
      [['service-a', 'crash', 'maybe'], /on or off/],
      [['service-a', 'crash', 'on', '3'], /takes no value/],
      [['service-a', 'latency-ms', 'on', 'fast'], /number/],
    ] as const) {
      const r = fault(file, ...args);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.out, message);
    }
    assert.equal(fault(file, 'off-all').code, 0);
    assert.match(fault(file, 'list').out, /\n0 on; file /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
