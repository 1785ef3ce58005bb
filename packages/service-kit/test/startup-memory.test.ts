import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const FIXTURE = path.join(__dirname, 'fixtures', 'startup-memory.js');
const run = (...flags: string[]) =>
  JSON.parse(execFileSync(process.execPath, [...flags, '--max-semi-space-size=8', FIXTURE], { encoding: 'utf8' })) as {
    before: number;
    after: number;
    ms: number | null;
  };

test('with --expose-gc, the young generation grown by start-up is given back', () => {
  const { before, after, ms } = run('--expose-gc');
  assert.ok(before >= 8 * 1024 * 1024, `the fixture grew the young generation (${before} bytes)`);
  assert.ok(after <= before / 4, `young generation ${before} -> ${after} bytes`);
  assert.equal(typeof ms, 'number');
});

test('without --expose-gc it does nothing and says so', () => {
  const { before, after, ms } = run();
  assert.equal(ms, null);
  assert.equal(after, before);
});
