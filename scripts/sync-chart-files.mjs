#!/usr/bin/env node
// Copies the observability config that the Helm side needs from its one source in observability/
// into deploy/helm, because a chart cannot read files outside its folder and the platform values
// must carry the config itself:
//   observability/prometheus/rules/*.yml        -> deploy/helm/meridian/files/rules/        (PrometheusRules)
//   observability/grafana/dashboards/*.json     -> deploy/helm/meridian/files/dashboards/   (dashboard ConfigMaps)
//   observability/flags/flags.json              -> deploy/helm/meridian/files/flags/flags.json (fault flags ConfigMap)
//   observability/collector/config.yaml         -> deploy/helm/platform/otel-collector-gateway.yaml (alternateConfig)
//   observability/collector/kubernetes.yaml     -> deploy/helm/platform/otel-collector-gateway-k8s-attributes.yaml (alternateConfig)
//   observability/alertmanager/alertmanager.yml -> deploy/helm/platform/kube-prometheus-stack.yaml (alertmanager.config)
// The embedded copies sit between `# >>> synced from <source>` and `# <<< <source>` lines.
//
//   node scripts/sync-chart-files.mjs           # write the copies
//   node scripts/sync-chart-files.mjs --check   # exit 1 and list what differs; writes nothing
// tests/deploy/helm.test.ts fails when a copy differs from its source.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHART = path.join(ROOT, 'deploy/helm/meridian');
const PLATFORM = path.join(ROOT, 'deploy/helm/platform');

/** Whole-file copies: every matching file of `from` into `to`; copies whose source is gone are removed. */
export const DIRS = [
  { from: 'observability/prometheus/rules', to: 'deploy/helm/meridian/files/rules', ext: '.yml' },
  { from: 'observability/grafana/dashboards', to: 'deploy/helm/meridian/files/dashboards', ext: '.json' },
];

/** Single-file copies, byte for byte. */
export const FILES = [{ from: 'observability/flags/flags.json', to: 'deploy/helm/meridian/files/flags/flags.json' }];

/** Embedded copies: the source file, indented under `key`, between the marker lines. */
export const EMBEDS = [
  { source: 'observability/collector/config.yaml', target: 'deploy/helm/platform/otel-collector-gateway.yaml', key: 'alternateConfig' },
  { source: 'observability/collector/kubernetes.yaml', target: 'deploy/helm/platform/otel-collector-gateway-k8s-attributes.yaml', key: 'alternateConfig' },
  { source: 'observability/alertmanager/alertmanager.yml', target: 'deploy/helm/platform/kube-prometheus-stack.yaml', key: 'config' },
];

const BEGIN = (source) => `# >>> synced from ${source} by scripts/sync-chart-files.mjs: edit the source, then run the script`;
const END = (source) => `# <<< ${source}`;

/** The target's text with the block for `embed` rewritten from the source. */
export function embed(targetText, sourceText, { source, target, key }) {
  const lines = targetText.split('\n');
  const begin = lines.findIndex((l) => l.trim() === BEGIN(source));
  const end = lines.findIndex((l, i) => i > begin && l.trim() === END(source));
  if (begin < 0 || end < 0) throw new Error(`${target}: marker lines for ${source} not found (expected "${BEGIN(source)}" ... "${END(source)}")`);
  const indent = lines[begin].slice(0, lines[begin].length - lines[begin].trimStart().length);
  const body = sourceText
    .replace(/\n+$/, '')
    .split('\n')
    .map((l) => (l.trim() === '' ? '' : `${indent}  ${l}`));
  return [...lines.slice(0, begin + 1), `${indent}${key}:`, ...body, ...lines.slice(end)].join('\n');
}

function plan() {
  /** @type {{ path: string, want: string | null, have: string | null }[]} */
  const changes = [];
  for (const { from, to, ext } of DIRS) {
    const src = path.join(ROOT, from);
    const dst = path.join(ROOT, to);
    const names = existsSync(src) ? readdirSync(src).filter((n) => n.endsWith(ext)).sort() : [];
    for (const n of names) {
      const want = readFileSync(path.join(src, n), 'utf8');
      const p = path.join(dst, n);
      const have = existsSync(p) ? readFileSync(p, 'utf8') : null;
      if (want !== have) changes.push({ path: p, want, have });
    }
    if (existsSync(dst)) {
      for (const n of readdirSync(dst).filter((f) => f.endsWith(ext) && !names.includes(f))) {
        changes.push({ path: path.join(dst, n), want: null, have: readFileSync(path.join(dst, n), 'utf8') });
      }
    }
  }
  for (const { from, to } of FILES) {
    const want = readFileSync(path.join(ROOT, from), 'utf8');
    const p = path.join(ROOT, to);
    const have = existsSync(p) ? readFileSync(p, 'utf8') : null;
    if (want !== have) changes.push({ path: p, want, have });
  }
  for (const e of EMBEDS) {
    const p = path.join(ROOT, e.target);
    const have = readFileSync(p, 'utf8');
    const want = embed(have, readFileSync(path.join(ROOT, e.source), 'utf8'), e);
    if (want !== have) changes.push({ path: p, want, have });
  }
  return changes;
}

function main() {
  const check = process.argv.includes('--check');
  const changes = plan();
  const rel = (p) => path.relative(ROOT, p);
  if (check) {
    if (changes.length === 0) {
      console.log('chart copies are in sync with observability/');
      return;
    }
    for (const c of changes) console.error(`out of sync: ${rel(c.path)}${c.want === null ? ' (source removed)' : ''}`);
    console.error('run: node scripts/sync-chart-files.mjs');
    process.exit(1);
  }
  for (const c of changes) {
    if (c.want === null) {
      rmSync(c.path);
      console.log(`removed ${rel(c.path)}`);
    } else {
      mkdirSync(path.dirname(c.path), { recursive: true });
      writeFileSync(c.path, c.want);
      console.log(`wrote   ${rel(c.path)}`);
    }
  }
  if (changes.length === 0) console.log('already in sync');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
export { CHART, PLATFORM, ROOT };
