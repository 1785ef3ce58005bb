// The Prometheus that scripts/tools/install.sh builds: the version docker-compose.yml names, and
// exactly the service-discovery plugins of PROMETHEUS_SD_PLUGINS (plus file and http, always in),
// asked of the real promtool, which refuses a scrape config whose discovery is not built in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinnedVersions, runTool } from '@meridian/test-kit';

const versions = pinnedVersions();
const plugins = (versions.PROMETHEUS_SD_PLUGINS ?? '').split(/\s+/).filter(Boolean);

/** `promtool check config` on a config with one scrape job discovering its targets by `<sd>_sd_configs`. */
async function checkDiscovery(sd: string, entry: string): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-prometheus-sd-'));
  try {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, `scrape_configs:\n  - job_name: probe\n    ${sd}_sd_configs:\n      - ${entry}\n`);
    return await runTool('promtool', ['check', 'config', '--syntax-only', file], { timeoutMs: 60_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Prometheus is the version docker-compose.yml names', async () => {
  const r = await runTool('prometheus', ['--version'], { timeoutMs: 30_000 });
  assert.match(r.output, new RegExp(`version ${versions.PROMETHEUS_IMAGE_VERSION.replace(/^v/, '').replace(/\./g, '\\.')} `));
});

test('the discovery plugins of PROMETHEUS_SD_PLUGINS are built in, with file and http', async () => {
  assert.ok(plugins.includes('kubernetes'), 'the Prometheus Operator of the cluster tests writes kubernetes_sd_configs');
  const entries: Record<string, string> = { kubernetes: 'role: pod', file: 'files: [targets.json]', http: 'url: http://127.0.0.1:9/targets' };
  for (const sd of [...plugins, 'file', 'http']) {
    const r = await checkDiscovery(sd, entries[sd] ?? '{}');
    assert.equal(r.code, 0, `${sd}_sd_configs refused:\n${r.output}`);
  }
});

test('a discovery plugin left out of PROMETHEUS_SD_PLUGINS is refused by name', async () => {
  for (const sd of ['ec2', 'azure', 'gce', 'consul'].filter((p) => !plugins.includes(p))) {
    const r = await checkDiscovery(sd, '{}');
    assert.notEqual(r.code, 0, `${sd}_sd_configs accepted: the plugin is built in`);
    assert.match(r.output, new RegExp(`field ${sd}_sd_configs not found`), r.output);
  }
});
