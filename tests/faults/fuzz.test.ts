// Every service fuzzed from its own OpenAPI document by schemathesis (PyPI, pinned, installed by
// scripts/tools/install.sh), against the real processes: no 5xx, every answer's content type and
// body as documented (errors are problem+json). Fixed seed and a bounded number of examples.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, runTool, ServiceProcess } from '@meridian/test-kit';

const MAX_EXAMPLES = process.env.FUZZ_MAX_EXAMPLES ?? '25';

describe('schemathesis fuzzes every service from its OpenAPI document', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-fuzz-'));
  const procs: Record<string, ServiceProcess> = {};
  const quiet = { LOG_LEVEL: 'warn' };

  before(async () => {
    const models = path.join(REPO_ROOT, 'services/inference/models/generated');
    if (!existsSync(models)) assert.fail(`no generated models in ${models}: run npm run models`);
    procs['service-b'] = await new ServiceProcess({ folder: 'service-b', name: 'service-b', env: quiet }).start();
    // /crash stays disabled (CRASH_ENABLED is false by default), so fuzzing it gets a 403.
    procs['service-a'] = await new ServiceProcess({
      folder: 'service-a',
      name: 'service-a',
      env: { ...quiet, SERVICE_B_URL: procs['service-b'].url, EXAMPLE_MAX_MS: '20', HASH_MAX_ITERATIONS: '1000' },
    }).start();
    const [e, m] = await Promise.all([
      new ServiceProcess({ folder: 'inference', name: 'inference-efficientnetb0', env: { ...quiet, ROLE: 'efficientnetb0' } }).start(30_000),
      new ServiceProcess({ folder: 'inference', name: 'inference-mobilenetv2', env: { ...quiet, ROLE: 'mobilenetv2' } }).start(30_000),
    ]);
    procs['inference-efficientnetb0'] = e;
    procs['inference-mobilenetv2'] = m;
    procs['inference-ensemble'] = await new ServiceProcess({
      folder: 'inference',
      name: 'inference-ensemble',
      env: { ...quiet, ROLE: 'ensemble', EFFICIENTNETB0_URL: e.url, MOBILENETV2_URL: m.url },
    }).start(30_000);
    procs['preprocessing-edge'] = await new ServiceProcess({
      folder: 'preprocessing-edge',
      name: 'preprocessing-edge',
      env: { ...quiet, INFERENCE_URL: procs['inference-ensemble'].url, MAX_UPLOAD_BYTES: String(1024 * 1024) },
    }).start();
  });

  after(async () => {
    await Promise.all(Object.values(procs).map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, string[]][] = [
    // /serverError answers 500 on purpose; /crash would end the process if it were enabled.
    ['service-a', ['--exclude-path', '/serverError', '--exclude-path', '/crash']],
    ['service-b', []],
    ['preprocessing-edge', []],
    ['inference-ensemble', []],
    ['inference-mobilenetv2', []],
  ];
  for (const [name, extra] of cases) {
    test(name, async () => {
      const started = Date.now();
      const { code, output } = await runTool(
        'st',
        [
          'run',
          `${procs[name].url}/openapi.json`,
          '--checks',
          'not_a_server_error,content_type_conformance,response_schema_conformance',
          '--phases',
          'examples,coverage,fuzzing',
          '--max-examples',
          MAX_EXAMPLES,
          '--seed',
          '1',
          '--workers',
          '1',
          '--generation-database',
          'none',
          '--request-timeout',
          '20',
          '--no-color',
          ...extra,
        ],
        { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' }, timeoutMs: 240_000, graceMs: 0 },
      );
      const summary = /(\d+) generated, .*/.exec(output)?.[0] ?? '';
      console.log(`${name}: schemathesis exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s; ${summary}`);
      assert.equal(code, 0, output.slice(-6000));
      assert.equal(procs[name].exitCode, null, `${name} still runs`);
    });
  }
});
