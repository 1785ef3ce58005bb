// The build-time download of pretrained models (services/inference/Dockerfile, stage `models`),
// against a local HTTP server standing in for the model host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fetchPretrained, wantedModels } from '../src/models/fetch-pretrained-cli';

const body = Buffer.from('not really onnx, but bytes with a digest');
const digest = createHash('sha256').update(body).digest('hex');

test('nothing is fetched unless PRETRAINED=true, and PRETRAINED=true without a URL is an error', () => {
  assert.deepEqual(wantedModels({ MODEL_URL_MOBILENETV2: 'http://x/m.onnx' }), []);
  assert.throws(() => wantedModels({ PRETRAINED: 'true' }), /needs MODEL_URL_MOBILENETV2/);
  assert.deepEqual(wantedModels({ PRETRAINED: 'true', MODEL_URL_EFFICIENTNETB0: 'http://x/e.onnx', MODEL_SHA256_EFFICIENTNETB0: 'ab' }), [
    { role: 'efficientnetb0', url: 'http://x/e.onnx', sha256: 'ab' },
  ]);
});

test('a download is written under its role when its sha256 matches, and refused when it does not', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/m.onnx') res.end(body);
    else res.writeHead(404).end();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'meridian-pretrained-'));
  try {
    const lines = await fetchPretrained(dir, [{ role: 'mobilenetv2', url: `${base}/m.onnx`, sha256: digest.toUpperCase() }]);
    assert.match(lines[0], new RegExp(`mobilenetv2: .* \\(${body.length} bytes, sha256 ${digest}\\)`));
    assert.deepEqual(readFileSync(path.join(dir, 'mobilenetv2.onnx')), body);
    await assert.rejects(fetchPretrained(dir, [{ role: 'efficientnetb0', url: `${base}/m.onnx`, sha256: '00'.repeat(32) }]), /sha256 .* expected/);
    assert.equal(existsSync(path.join(dir, 'efficientnetb0.onnx')), false, 'a file with the wrong digest is not written');
    await assert.rejects(fetchPretrained(dir, [{ role: 'efficientnetb0', url: `${base}/missing.onnx` }]), /answered 404/);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
