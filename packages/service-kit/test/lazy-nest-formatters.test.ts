import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

// In a process of its own: the formatters are built, or not, when @nestjs/common first loads.
const FIXTURE = path.join(__dirname, 'fixtures', 'nest-formatters.js');
const seen = JSON.parse(execFileSync(process.execPath, [FIXTURE], { encoding: 'utf8' })) as {
  builtAtLoad: number;
  restored: boolean;
  timestamp: string;
  expected: string[];
  builtAfterFormat: number;
};

test('loading the service-kit builds none of NestJS\'s date formatters', () => {
  assert.equal(seen.builtAtLoad, 0);
});

test('Intl.DateTimeFormat is the process\'s own again once @nestjs/common has loaded', () => {
  assert.equal(seen.restored, true);
});

test('NestJS\'s console logger still formats its timestamps as before, building the formatter then', () => {
  assert.ok(seen.expected.includes(seen.timestamp), `${seen.timestamp} is not one of ${seen.expected.join(', ')}`);
  assert.equal(seen.builtAfterFormat, 1);
});
