// The Perses plugins of the local run as scripts/tools/install.sh assembles them
// (scripts/tools/perses-plugins.mjs): each has its front end, its CUE schemas and the CUE module
// those import in the cache beside them, so that the server loads them with no CUE registry. That
// the server really does, and draws every dashboard with them, is tests/browser/dashboards.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pinnedVersions, REPO_ROOT, toolsBinDir } from '@meridian/test-kit';

interface PluginSpec {
  name: string;
  npmPackage: string;
  npmVersion: string;
  goModule: string;
  goVersion: string;
}
const load = async () =>
  (await import(pathToFileURL(path.join(REPO_ROOT, 'scripts/tools/perses-plugins.mjs')).href)) as {
    parsePluginSpec(spec: string): PluginSpec;
    persesCueVersions(moduleCue: string): string[];
  };

test('PERSES_PLUGINS: each entry names a plugin, its npm package and its Go module, at exact versions', async () => {
  const { parsePluginSpec } = await load();
  const specs = pinnedVersions().PERSES_PLUGINS.split(',').map(parsePluginSpec);
  assert.deepEqual(specs.map((s) => s.name).sort(), ['Prometheus', 'StatChart', 'TimeSeriesChart']);
  for (const s of specs) {
    assert.match(s.npmPackage, /^@perses-dev\/[a-z-]+-plugin$/);
    assert.match(s.npmVersion, /^\d+\.\d+\.\d+$/);
    assert.match(s.goVersion, /^v\d+\.\d+\.\d+$/);
  }
  assert.throws(() => parsePluginSpec('Prometheus:@perses-dev/prometheus-plugin@latest'), /bad plugin spec/);
  assert.throws(() => parsePluginSpec('Prometheus:prometheus-plugin@0.53.4:prometheus@v0.53.4'), /bad plugin spec/);
});

test('the CUE module versions a plugin depends on, read from its cue.mod/module.cue', async () => {
  const { persesCueVersions } = await load();
  const moduleCue = 'module: "github.com/perses/plugins/x@v0"\ndeps: {\n\t"github.com/perses/perses/cue@v0": {\n\t\tv:       "v0.52.0-beta.4"\n\t\tdefault: true\n\t}\n}\n';
  assert.deepEqual(persesCueVersions(moduleCue), ['v0.52.0-beta.4']);
  assert.deepEqual(persesCueVersions('module: "x@v0"\n'), []);
});

test('the installed plugins: front end, schemas, and every CUE module they import in the cache', async () => {
  const { parsePluginSpec, persesCueVersions } = await load();
  const dir = path.join(path.dirname(toolsBinDir()), 'perses-plugins');
  for (const s of pinnedVersions().PERSES_PLUGINS.split(',').map(parsePluginSpec)) {
    const plugin = path.join(dir, 'plugins', s.name);
    const pkg = JSON.parse(readFileSync(path.join(plugin, 'package.json'), 'utf8')) as { name: string; version: string; perses: { schemasPath: string } };
    assert.equal(`${pkg.name}@${pkg.version}`, `${s.npmPackage}@${s.npmVersion}`);
    assert.equal(pkg.perses.schemasPath, 'schemas', `${s.name}: the server reads its schemas there`);
    for (const f of ['mf-manifest.json', '__mf', 'schemas', 'cue.mod/module.cue']) assert.ok(existsSync(path.join(plugin, f)), `${s.name} has ${f}`);
    const versions = persesCueVersions(readFileSync(path.join(plugin, 'cue.mod/module.cue'), 'utf8'));
    assert.ok(versions.length > 0, `${s.name} imports github.com/perses/perses/cue`);
    for (const v of versions) {
      assert.ok(existsSync(path.join(dir, 'cue-cache/mod/extract/github.com/perses/perses', `cue@${v}`, 'cue.mod/module.cue')), `${s.name}: perses/cue ${v} in the cache`);
      assert.ok(existsSync(path.join(dir, 'cue-cache/mod/download/github.com/perses/perses/cue/@v', `${v}.mod`)), `${s.name}: perses/cue ${v}.mod in the cache`);
    }
  }
});
