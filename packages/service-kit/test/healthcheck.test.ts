// The images' HEALTHCHECK port choice; tests/deploy/dockerfiles.test.ts runs the command of each
// Dockerfile against a local server, and tests/containers sees it turn healthy in real containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { healthPort } from '../src/healthcheck';

test('PROBE_PORT wins, then PORT; else a bare port; else the port given for ROLE', () => {
  const roles = ['ensemble=8000', 'efficientnetb0=8001', 'mobilenetv2=8002'];
  assert.equal(healthPort({ PROBE_PORT: '9100', PORT: '9000', ROLE: 'mobilenetv2' }, roles), 9100);
  assert.equal(healthPort({ PORT: '9000', ROLE: 'mobilenetv2' }, roles), 9000);
  assert.equal(healthPort({ ROLE: 'mobilenetv2' }, roles), 8002);
  assert.equal(healthPort({ ROLE: 'ensemble' }, roles), 8000);
  assert.equal(healthPort({}, ['8080']), 8080);
  assert.equal(healthPort({ ROLE: 'nope' }, roles), undefined);
  assert.equal(healthPort({}, []), undefined);
});
