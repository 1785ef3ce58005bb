// `npm start` when a service cannot start: it names the service, stops everything it started (the
// pipeline included) and exits 1, leaving no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalStack } from '@meridian/test-kit';

test('a service that exits before it is ready stops the whole stack, and npm start exits 1', { timeout: 180_000 }, async () => {
  // Both model services exit at once: the file MODEL_PATH names does not exist.
  const start = LocalStack.start({ MODEL_PATH: '/nonexistent/meridian-model.onnx' });
  await assert.rejects(start, (err: Error) => {
    assert.match(err.message, /^npm start exited with 1:/, err.message);
    assert.match(err.message, /inference-(efficientnetb0|mobilenetv2) exited with code 1 before it was ready/);
    assert.match(err.message, /==> stopped/);
    return true;
  });
});
