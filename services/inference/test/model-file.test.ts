import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveModelSource } from '../src/model-file';

test('a pretrained file baked in for a role is served by that role only; MODEL_PATH wins over it', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'meridian-model-file-'));
  try {
    const pretrained = path.join(dir, 'pretrained');
    const generated = path.join(dir, 'generated');
    mkdirSync(pretrained);
    writeFileSync(path.join(pretrained, 'mobilenetv2.onnx'), 'onnx');
    const config = { MODEL_PATH: undefined, MODEL_DIR: generated, PRETRAINED_DIR: pretrained };

    const mobile = resolveModelSource('mobilenetv2', config);
    assert.deepEqual(mobile, { file: path.join(pretrained, 'mobilenetv2.onnx'), untrained: false, weights: 'mobilenetv2.onnx' });

    const efficient = resolveModelSource('efficientnetb0', config);
    assert.equal(efficient.file, path.join(generated, 'efficientnetb0.onnx'), 'no pretrained file for this role: the generated graph');
    assert.equal(efficient.untrained, true);

    const chosen = resolveModelSource('mobilenetv2', { ...config, MODEL_PATH: '/elsewhere/model.onnx' });
    assert.equal(chosen.file, '/elsewhere/model.onnx', 'MODEL_PATH wins');
    assert.equal(chosen.untrained, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
