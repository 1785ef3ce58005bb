// The chart's `helm test` command (src/smoke.ts), against a real local HTTP server; tests/cluster
// runs it inside the cluster through `helm test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { smoke } from '../src/smoke';

test('ok only when every URL answers 200; a 503 or a refused connection fails it, each named', async () => {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/down' ? 503 : 200;
    res.end('x');
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const lines: string[] = [];
    assert.equal(await smoke([`${base}/a`, `${base}/b`], (l) => lines.push(l)), true);
    assert.deepEqual(lines, [`ok   ${base}/a`, `ok   ${base}/b`]);

    const failed: string[] = [];
    assert.equal(await smoke([`${base}/a`, `${base}/down`, 'http://127.0.0.1:9/refused'], (l) => failed.push(l)), false);
    assert.equal(failed[0], `ok   ${base}/a`);
    assert.equal(failed[1], `FAIL ${base}/down: answered 503`);
    assert.match(failed[2], /^FAIL http:\/\/127\.0\.0\.1:9\/refused: /);
    assert.equal(await smoke([], () => {}), false, 'no URL is not a pass');
  } finally {
    server.close();
  }
});
