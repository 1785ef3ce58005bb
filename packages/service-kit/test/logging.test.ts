import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pinoHttp } from 'pino-http';
import { pinoOptions } from '../src/logging';

const BURST = path.join(__dirname, 'fixtures', 'log-burst.js');

/** Runs the burst with stdout on a pipe (the local run, containers) or a file, and returns what reached it. */
async function burst(count: number, how: 'exit' | 'throw', stdout: 'pipe' | 'file'): Promise<{ code: number | null; lines: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'log-burst-'));
  const file = path.join(dir, 'out.log');
  const fd = stdout === 'file' ? openSync(file, 'w') : undefined;
  try {
    const child = spawn(process.execPath, [BURST, String(count), how], { stdio: ['ignore', fd ?? 'pipe', 'ignore'] });
    let text = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (text += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    if (fd !== undefined) text = readFileSync(file, 'utf8');
    return { code, lines: text.split('\n').filter(Boolean) };
  } finally {
    if (fd !== undefined) closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const stdout of ['pipe', 'file'] as const) {
  for (const how of ['exit', 'throw'] as const) {
    test(`lines written just before the process ends (${how === 'exit' ? 'process.exit' : 'an uncaught throw'}) reach stdout on a ${stdout}`, async () => {
      const { code, lines } = await burst(2000, how, stdout);
      assert.equal(code, how === 'exit' ? 3 : 1);
      assert.equal(lines.length, 2000, `${lines.length} of 2000 lines arrived`);
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { n: number }).n),
        Array.from({ length: 2000 }, (_, i) => i),
        'every line whole, in order',
      );
    });
  }
}

test('an access line carries the method, URL and status only: no header reaches it', () => {
  const lines: string[] = [];
  const logger = pinoHttp(pinoOptions('svc', 'info'), { write: (l: string) => void lines.push(l) }).logger;
  const req = { method: 'GET', url: '/data?x=1', headers: { authorization: 'Bearer s3cret', cookie: 'sid=s3cret', host: 'h' } };
  const res = { statusCode: 200, getHeaders: () => ({ 'set-cookie': 's3cret' }) };
  logger.info({ req, res, responseTime: 3 }, 'request completed');
  logger.child({ req }).info({ res, responseTime: 3 }, 'request completed');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], lines[1].replace(/"time":"[^"]+"/, lines[0].match(/"time":"[^"]+"/)![0]), 'the root and a child print the same line');
  for (const line of lines) {
    assert.doesNotMatch(line, /s3cret|authorization|cookie/i);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(
      { ...parsed, time: undefined },
      { level: 'info', time: undefined, service: 'svc', req: { method: 'GET', url: '/data?x=1' }, res: { statusCode: 200 }, responseTime: 3, msg: 'request completed' },
    );
  }
});
