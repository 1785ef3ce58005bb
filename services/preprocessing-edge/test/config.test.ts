import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceProcess } from '@meridian/test-kit';

describe('configuration', { timeout: 60_000 }, () => {
  const cases: [string, string][] = [
    ['EDGE_SITE_ID', 'Edge_Site'],
    ['EDGE_SITE_ID', '-leading-dash'],
    ['EDGE_SITE_ID', 'a'.repeat(64)],
    ['INFERENCE_URL', 'not a url'],
    ['INFERENCE_URL', 'ftp://127.0.0.1:8000'],
    ['INFERENCE_TIMEOUT_MS', '10s'],
    ['MAX_UPLOAD_BYTES', '-1'],
  ];
  for (const [name, value] of cases) {
    it(`exits with one line naming ${name} when it is ${JSON.stringify(value)}`, async () => {
      const proc = new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge', env: { [name]: value } });
      await assert.rejects(proc.start(10_000), /exited with 1/);
      assert.equal(await proc.waitExit(), 1);
      const lines = proc.stderr.filter((l) => l.trim());
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(lines[0], new RegExp(`^preprocessing-edge: invalid configuration: ${name} must be`));
      assert.equal(proc.lines.length, 0, 'nothing on stdout');
    });
  }
});
