// The two Prometheus builds of scripts/tools/install.sh, both at the version docker-compose.yml
// names: the local run's (prometheus), with only the file and http discovery and no promtool, and
// the stand-in image's (prometheus-k8s), with those of PROMETHEUS_SD_PLUGINS too and the promtool
// the tests use. Asked of the real binaries: Prometheus refuses at start, and promtool when it
// checks, a scrape config whose discovery is not built in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, pinnedVersions, runTool, startTool } from '@meridian/test-kit';

const versions = pinnedVersions();
const plugins = (versions.PROMETHEUS_SD_PLUGINS ?? '').split(/\s+/).filter(Boolean);

/** A scrape config with one job discovering its targets by `<sd>_sd_configs`, in a temp dir given to `use`. */
async function withDiscovery<T>(sd: string, entry: string, use: (dir: string, file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-prometheus-sd-'));
  try {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, `scrape_configs:\n  - job_name: probe\n    ${sd}_sd_configs:\n      - ${entry}\n`);
    return await use(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check config` (the image's build) on a config discovering by `<sd>_sd_configs`. */
const checkDiscovery = (sd: string, entry: string) =>
  withDiscovery(sd, entry, (_dir, file) => runTool('promtool', ['check', 'config', '--syntax-only', file], { timeoutMs: 60_000 }));

/** The local run's prometheus started on a config discovering by `<sd>_sd_configs`: ready, or its exit. */
const startLocal = (sd: string, entry: string) =>
  withDiscovery(sd, entry, async (dir, file) => {
    const port = await freePort();
    const args = [`--config.file=${file}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`];
    try {
      const prometheus = await startTool('prometheus', args, { readyUrl: `http://127.0.0.1:${port}/-/ready`, readyTimeoutMs: 60_000 });
      await prometheus.stop();
      return { ready: true, output: prometheus.output() };
    } catch (err) {
      return { ready: false, output: String(err) };
    }
  });

const entries: Record<string, string> = { kubernetes: 'role: pod', file: 'files: [targets.json]', http: 'url: http://127.0.0.1:9/targets' };

for (const bin of ['prometheus', 'prometheus-k8s']) {
  test(`${bin} is the version docker-compose.yml names`, async () => {
    const r = await runTool(bin, ['--version'], { timeoutMs: 30_000 });
    assert.match(r.output, new RegExp(`version ${versions.PROMETHEUS_IMAGE_VERSION.replace(/^v/, '').replace(/\./g, '\\.')} `));
  });
}

test('the local run\'s Prometheus discovers by file and http only', async () => {
  for (const sd of ['file', 'http']) {
    const r = await startLocal(sd, entries[sd]);
    assert.ok(r.ready, `${sd}_sd_configs refused:\n${r.output}`);
  }
  for (const sd of ['kubernetes', 'ec2', 'consul']) {
    const r = await startLocal(sd, '{}');
    assert.equal(r.ready, false, `${sd}_sd_configs accepted: the plugin is built in`);
    assert.match(r.output, new RegExp(`field ${sd}_sd_configs not found`), r.output);
  }
});

test('the image\'s Prometheus has the discovery plugins of PROMETHEUS_SD_PLUGINS, with file and http', async () => {
  assert.ok(plugins.includes('kubernetes'), 'the Prometheus Operator of the cluster tests writes kubernetes_sd_configs');
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
