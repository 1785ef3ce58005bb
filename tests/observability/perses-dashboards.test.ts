// The Perses dashboards in observability/perses/dashboards/ are generated from the same definitions as
// the Grafana ones (observability/grafana/src/perses.ts converts each generated Grafana dashboard).
// Checked here against the committed Grafana JSON, read independently of the converter: same
// dashboards, panels, queries, variables and layout, in the Perses v0.52 shapes the plugins
// (Prometheus 0.53.4, TimeSeriesChart 0.10, StatChart 0.10.0) accept; and that the committed
// files are exactly what the generator writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@meridian/test-kit';

const grafanaDir = join(REPO_ROOT, 'observability', 'grafana', 'dashboards');
const persesDir = join(REPO_ROOT, 'observability', 'perses', 'dashboards');
const generator = join(REPO_ROOT, 'observability', 'grafana', 'dist', 'src', 'generate.js');

// ---------------------------------------------------------------------------------------------
// Grafana, as grafana.ts writes it

interface GTarget {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  datasource?: { type?: string; uid?: string };
}
interface GPanel {
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: GTarget[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      decimals?: number;
      min?: number;
      max?: number;
      thresholds?: { steps: { value: number | null; color: string }[] };
      mappings?: { type: string; options: Record<string, { text: string; color?: string; index?: number }> }[];
      custom?: { thresholdsStyle?: { mode?: string } };
    };
  };
  options?: { graphMode?: string };
}
interface GVariable {
  name: string;
  type: string;
  label?: string;
  query?: string | { query?: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
}
interface GDashboard {
  uid: string;
  title: string;
  description: string;
  refresh: string;
  time: { from: string };
  panels: GPanel[];
  templating: { list: GVariable[] };
}

// ---------------------------------------------------------------------------------------------
// Perses v0.52 Dashboard resources

interface PQuery {
  kind: string;
  spec: { plugin: { kind: string; spec: { query: string; seriesNameFormat?: string; datasource?: unknown } } };
}
interface PFormat {
  unit?: string;
  decimalPlaces?: number;
  shortValues?: boolean;
}
interface PThresholds {
  mode?: string;
  defaultColor?: string;
  steps?: { value: number; color: string }[];
}
interface PPanel {
  kind: string;
  spec: {
    display: { name: string; description?: string };
    plugin: {
      kind: string;
      spec: {
        format?: PFormat;
        yAxis?: { format?: PFormat; min?: number; max?: number };
        thresholds?: PThresholds;
        calculation?: string;
        sparkline?: object;
        mappings?: { kind: string; spec: { value: string; result: { value: string; color?: string } } }[];
        [k: string]: unknown;
      };
    };
    queries: PQuery[];
  };
}
interface PItem {
  x: number;
  y: number;
  width: number;
  height: number;
  content: { $ref: string };
}
interface PVariable {
  kind: string;
  spec: {
    name: string;
    display?: { name?: string; hidden: boolean };
    allowAllValue: boolean;
    allowMultiple: boolean;
    customAllValue?: string;
    plugin: { kind: string; spec: { labelName?: string; matchers?: string[] } };
  };
}
interface PDashboard {
  kind: string;
  metadata: { name: string; project: string };
  spec: {
    display: { name: string; description?: string };
    duration: string;
    refreshInterval?: string;
    variables?: PVariable[];
    panels: Record<string, PPanel>;
    layouts: { kind: string; spec: { display: { title: string }; items: PItem[] } }[];
  };
}

function load<T>(dir: string): Map<string, T> {
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as T]),
  );
}

/** A Grafana row and the panels under it (grafana.ts lays every panel out under a row). */
interface GRow {
  title: string;
  y: number;
  panels: GPanel[];
}
function rows(d: GDashboard): GRow[] {
  const out: GRow[] = [];
  for (const p of d.panels) {
    if (p.type === 'row') out.push({ title: p.title, y: p.gridPos.y + p.gridPos.h, panels: [] });
    else {
      assert.ok(out.length, `${d.uid} / "${p.title}": a panel outside a row`);
      out[out.length - 1].panels.push(p);
    }
  }
  return out;
}

/**
 * Which Grafana panels have a Perses equivalent with the plugins at hand: the Prometheus panels.
 * Jaeger's trace search (a table) has none (no Jaeger datasource in Perses) and is left out.
 */
const EXPECTED_PLUGIN: Record<string, string> = { timeseries: 'TimeSeriesChart', stat: 'StatChart', bargauge: 'StatChart' };
const isPrometheusPanel = (p: GPanel): boolean => (p.targets ?? []).length > 0 && (p.targets ?? []).every((t) => t.datasource?.type === 'prometheus');

/** Grafana unit → Perses format (perses/cue v0.52.0 common/format.cue). */
const EXPECTED_FORMAT: Record<string, PFormat> = {
  reqps: { unit: 'requests/sec' },
  ops: { unit: 'ops/sec' },
  s: { unit: 'seconds' },
  percentunit: { unit: 'percent-decimal' },
  bytes: { unit: 'bytes' },
  Bps: { unit: 'bytes/sec' },
  short: { unit: 'decimal' },
  none: { unit: 'decimal', shortValues: false },
};
const HEX = /^#(?:[0-9a-fA-F]{3}){1,2}$/;
const GRAFANA_COLORS: Record<string, string> = { green: '#73bf69', orange: '#ff9830', red: '#f2495c' };

function expectedThresholds(p: GPanel): PThresholds {
  const [base, ...rest] = p.fieldConfig?.defaults?.thresholds?.steps ?? [];
  assert.equal(base.value, null);
  return { mode: 'absolute', defaultColor: GRAFANA_COLORS[base.color], steps: rest.map((s) => ({ value: s.value as number, color: GRAFANA_COLORS[s.color] })) };
}

/** Keys the plugins' CUE schemas allow (their specs are closed). */
const ALLOWED_SPEC_KEYS: Record<string, string[]> = {
  TimeSeriesChart: ['legend', 'tooltip', 'yAxis', 'thresholds', 'visual', 'querySettings'],
  StatChart: ['calculation', 'metricLabel', 'format', 'thresholds', 'sparkline', 'valueFontSize', 'mappings'],
};
const PERSES_UNITS = new Set(['seconds', 'milliseconds', 'percent', 'percent-decimal', 'decimal', 'bytes', 'bytes/sec', 'requests/sec', 'ops/sec', 'counts/sec']);

/** Variables Perses provides itself (the Prometheus plugin's builtins and Perses' own). */
const BUILTIN_VARIABLES = new Set(['__rate_interval', '__interval', '__interval_ms', '__range', '__range_s', '__range_ms', '__dashboard', '__project']);
const referencedVariables = (expr: string): string[] => [...expr.matchAll(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)/g)].map((m) => m[1] ?? m[2]);

function pairs(): { file: string; g: GDashboard; p: PDashboard }[] {
  const grafana = load<GDashboard>(grafanaDir);
  const perses = load<PDashboard>(persesDir);
  assert.deepEqual([...perses.keys()], [...grafana.keys()], 'observability/perses/dashboards/ holds one <uid>.json per Grafana dashboard, nothing else');
  return [...grafana].map(([file, g]) => ({ file, g, p: perses.get(file) as PDashboard }));
}

/** The Perses panel each converted Grafana panel became: the layout of its row, the item at its place. */
function persesPanelAt(p: PDashboard, row: GRow, gp: GPanel): { key: string; panel: PPanel; item: PItem } | undefined {
  const layout = p.spec.layouts.find((l) => l.spec.display.title === row.title);
  const item = layout?.spec.items.find((i) => i.x === gp.gridPos.x && i.y === gp.gridPos.y - row.y);
  if (!item) return undefined;
  const key = item.content.$ref.replace('#/spec/panels/', '');
  const panel = p.spec.panels[key];
  return panel ? { key, panel, item } : undefined;
}

// ---------------------------------------------------------------------------------------------

test('the committed Perses dashboards are exactly what the generator writes (edit observability/grafana/src, then npm run dashboards)', () => {
  assert.ok(existsSync(generator), `${generator} missing: run npx tsc -b`);
  const outs = [mkdtempSync(join(tmpdir(), 'meridian-perses-')), mkdtempSync(join(tmpdir(), 'meridian-perses-'))];
  try {
    for (const out of outs) {
      const r = spawnSync(process.execPath, [generator, '--perses-out', out], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `the generator failed:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /wrote 5 Perses dashboards to /);
      assert.doesNotMatch(r.stdout, /wrote \d+ dashboards to /, 'with --perses-out only, the Grafana files are not written');
    }
    const fresh = readdirSync(outs[0]).sort();
    assert.deepEqual(readdirSync(outs[1]).sort(), fresh);
    for (const f of fresh) assert.equal(readFileSync(join(outs[1], f), 'utf8'), readFileSync(join(outs[0], f), 'utf8'), `the generator is not deterministic: ${f}`);
    const committed = readdirSync(persesDir).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(committed, fresh, 'observability/perses/dashboards/ holds other files than the generator writes: run npm run dashboards');
    for (const f of fresh) {
      const text = readFileSync(join(persesDir, f), 'utf8');
      assert.ok(text === readFileSync(join(outs[0], f), 'utf8'), `observability/perses/dashboards/${f} differs from the generator's output: edit observability/grafana/src and run npx tsc -b && npm run dashboards`);
      assert.equal(text, JSON.stringify(JSON.parse(text), null, 2) + '\n', `${f}: two-space JSON with a final newline`);
    }
    // The generator's own --check covers both folders and agrees.
    const check = spawnSync(process.execPath, [generator, '--check'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(check.status, 0, check.stderr);
  } finally {
    for (const out of outs) rmSync(out, { recursive: true, force: true });
  }
});

test('the generator --check fails on a hand-edited or stale Perses dashboard, and removes stale files when writing', () => {
  const out = mkdtempSync(join(tmpdir(), 'meridian-perses-'));
  try {
    assert.equal(spawnSync(process.execPath, [generator, '--perses-out', out], { timeout: 30_000 }).status, 0);
    const file = join(out, 'meridian-overview.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"Meridian overview"', '"Edited by hand"'));
    writeFileSync(join(out, 'meridian-gone.json'), '{}\n');
    const r = spawnSync(process.execPath, [generator, '--perses-out', out, '--check'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `--check accepted an edited file:\n${r.stderr}`);
    assert.match(r.stderr, /meridian-overview\.json: differs/);
    assert.match(r.stderr, /meridian-gone\.json: not produced by the generator/);
    assert.equal(spawnSync(process.execPath, [generator, '--perses-out', out], { timeout: 30_000 }).status, 0);
    assert.ok(!existsSync(join(out, 'meridian-gone.json')), 'a stale file survived a generation');
    assert.equal(spawnSync(process.execPath, [generator, '--perses-out', out, '--check'], { timeout: 30_000 }).status, 0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('every Grafana dashboard has its Perses counterpart: name, project, title, description, time range, refresh', () => {
  const all = pairs();
  assert.equal(all.length, 5);
  for (const { file, g, p } of all) {
    assert.equal(p.kind, 'Dashboard', file);
    assert.deepEqual(p.metadata, { name: g.uid, project: 'meridian' }, `${file}: metadata`);
    assert.equal(p.spec.display.name, g.title, `${file}: display.name is the Grafana title`);
    assert.equal(p.spec.display.description, g.description, `${file}: display.description`);
    assert.equal(`now-${p.spec.duration}`, g.time.from, `${file}: duration from time.from`);
    assert.equal(p.spec.refreshInterval, g.refresh, `${file}: refreshInterval from refresh`);
  }
});

test('every Grafana panel with a Perses equivalent appears with its title, description, plugin and the same PromQL queries', () => {
  let converted = 0;
  const omitted: string[] = [];
  for (const { g, p } of pairs()) {
    const seen = new Set<string>();
    for (const row of rows(g)) {
      for (const gp of row.panels) {
        const where = `${g.uid} / ${row.title} / "${gp.title}"`;
        const found = persesPanelAt(p, row, gp);
        if (!isPrometheusPanel(gp)) {
          // No Perses equivalent (the Jaeger trace table): left out, and nothing put in its place.
          assert.equal(found, undefined, `${where}: a panel without Perses equivalent was converted`);
          assert.ok(!Object.values(p.spec.panels).some((x) => x.spec.display.name === gp.title), `${where}: a panel without Perses equivalent was converted`);
          omitted.push(`${g.uid} / ${gp.title} (${gp.type})`);
          continue;
        }
        converted++;
        assert.ok(found, `${where}: no Perses panel at its place in layout "${row.title}"`);
        const { key, panel, item } = found;
        seen.add(key);
        assert.equal(panel.kind, 'Panel', where);
        assert.equal(panel.spec.display.name, gp.title, `${where}: title`);
        assert.equal(panel.spec.display.description, gp.description, `${where}: description`);
        assert.equal(panel.spec.plugin.kind, EXPECTED_PLUGIN[gp.type], `${where}: a ${gp.type} becomes a ${EXPECTED_PLUGIN[gp.type]}`);
        assert.deepEqual([item.width, item.height], [gp.gridPos.w, gp.gridPos.h], `${where}: size`);
        assert.deepEqual(
          panel.spec.queries.map((q) => ({ kind: q.kind, plugin: q.spec.plugin.kind, query: q.spec.plugin.spec.query, legend: q.spec.plugin.spec.seriesNameFormat ?? '__auto' })),
          (gp.targets ?? []).map((t) => ({ kind: 'TimeSeriesQuery', plugin: 'PrometheusTimeSeriesQuery', query: t.expr, legend: t.legendFormat ?? '__auto' })),
          `${where}: the same PromQL queries and legends, in order`,
        );
        for (const q of panel.spec.queries) assert.equal(q.spec.plugin.spec.datasource, undefined, `${where}: queries use the default datasource`);

        // Unit, decimals, thresholds, y axis, sparkline and value mappings.
        const d = gp.fieldConfig?.defaults ?? {};
        const expectedFormat: PFormat = { ...EXPECTED_FORMAT[d.unit ?? 'none'] };
        assert.ok(EXPECTED_FORMAT[d.unit ?? 'none'], `${where}: unit ${d.unit} not in this test's table`);
        if (d.decimals !== undefined) expectedFormat.decimalPlaces = d.decimals;
        const s = panel.spec.plugin.spec;
        if (panel.spec.plugin.kind === 'TimeSeriesChart') {
          assert.deepEqual(s.yAxis?.format, expectedFormat, `${where}: unit ${d.unit}`);
          assert.equal(s.yAxis?.min, d.min, `${where}: y axis min`);
          assert.equal(s.yAxis?.max, d.max, `${where}: y axis max`);
          // Thresholds where Grafana draws them.
          if ((d.custom?.thresholdsStyle?.mode ?? 'off') !== 'off') assert.deepEqual(s.thresholds, expectedThresholds(gp), `${where}: thresholds`);
          else assert.equal(s.thresholds, undefined, `${where}: thresholds Grafana does not draw`);
        } else {
          assert.equal(s.calculation, 'last-number', `${where}: calculation`);
          assert.deepEqual(s.format, expectedFormat, `${where}: unit ${d.unit}`);
          assert.deepEqual(s.thresholds, expectedThresholds(gp), `${where}: thresholds`);
          assert.equal(s.sparkline !== undefined, gp.options?.graphMode === 'area', `${where}: a sparkline exactly where Grafana draws one`);
          // In Grafana's order (index), not the object's (numeric keys come out ascending).
          const mappings = (d.mappings ?? []).flatMap((m) =>
            Object.entries(m.options)
              .sort(([, a], [, b]) => (a.index ?? 0) - (b.index ?? 0))
              .map(([value, o]) => ({ value, text: o.text, color: o.color && GRAFANA_COLORS[o.color] })),
          );
          assert.deepEqual(
            (s.mappings ?? []).map((m) => ({ value: m.spec.value, text: m.spec.result.value, color: m.spec.result.color })),
            mappings,
            `${where}: value mappings`,
          );
        }
        // What the closed CUE schemas accept.
        for (const k of Object.keys(s)) assert.ok(ALLOWED_SPEC_KEYS[panel.spec.plugin.kind].includes(k), `${where}: ${panel.spec.plugin.kind} has no field ${k}`);
        for (const f of [s.format, s.yAxis?.format]) if (f?.unit) assert.ok(PERSES_UNITS.has(f.unit), `${where}: unit ${f.unit}`);
        for (const t of [s.thresholds?.defaultColor, ...(s.thresholds?.steps ?? []).map((x) => x.color), ...(s.mappings ?? []).map((m) => m.spec.result.color)]) {
          if (t !== undefined) assert.match(t, HEX, `${where}: colours in hex`);
        }
      }
    }
    assert.deepEqual(Object.keys(p.spec.panels).filter((k) => !seen.has(k)), [], `${g.uid}: Perses panels that no Grafana panel became`);
  }
  assert.ok(converted > 60, `only ${converted} panels converted`);
  assert.deepEqual(omitted, ['meridian-edge-pipeline / Recent edge traces (Jaeger) (table)'], 'the panels without a Perses equivalent');
});

test('variables: query variables become PrometheusLabelValuesVariable list variables; datasource variables are dropped; every $variable resolves', () => {
  let count = 0;
  for (const { g, p } of pairs()) {
    const expected = g.templating.list
      .filter((v) => v.type !== 'datasource')
      .map((v) => {
        assert.equal(v.type, 'query', `${g.uid} / $${v.name}`);
        const text = typeof v.query === 'string' ? v.query : String(v.query?.query);
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
        assert.ok(m, `${g.uid} / $${v.name}: ${text}`);
        return {
          name: v.name,
          label: v.label,
          allowAllValue: v.includeAll ?? false,
          allowMultiple: v.multi ?? false,
          customAllValue: v.includeAll ? v.allValue : undefined,
          plugin: { kind: 'PrometheusLabelValuesVariable', spec: { labelName: m[2], matchers: [m[1].trim()] } },
        };
      });
    const actual = (p.spec.variables ?? []).map((v) => {
      assert.equal(v.kind, 'ListVariable', `${g.uid} / $${v.spec.name}`);
      assert.equal(v.spec.display?.hidden, false, `${g.uid} / $${v.spec.name}: shown`);
      return {
        name: v.spec.name,
        label: v.spec.display?.name,
        allowAllValue: v.spec.allowAllValue,
        allowMultiple: v.spec.allowMultiple,
        customAllValue: v.spec.customAllValue,
        plugin: v.spec.plugin,
      };
    });
    assert.deepEqual(actual, expected, `${g.uid}: variables`);
    count += actual.length;
    assert.ok(!actual.some((v) => v.name === 'datasource' || v.name === 'jaeger'), `${g.uid}: a datasource variable survived`);

    const defined = new Set([...(p.spec.variables ?? []).map((v) => v.spec.name), ...BUILTIN_VARIABLES]);
    for (const [key, panel] of Object.entries(p.spec.panels)) {
      for (const q of panel.spec.queries) {
        for (const v of referencedVariables(q.spec.plugin.spec.query)) assert.ok(defined.has(v), `${g.uid} / ${key}: undefined variable $${v} in ${q.spec.plugin.spec.query}`);
      }
    }
    // No datasource reference anywhere: everything uses the default Prometheus datasource.
    assert.doesNotMatch(JSON.stringify(p), /"datasource"|\$\{?datasource|\$\{?jaeger/, `${g.uid}: a datasource reference`);
  }
  assert.equal(count, 2, 'the service and k6 dashboards each have one query variable');
});

test('layouts: one Grid per Grafana row, in order, re-based to the row; every panel placed exactly once, on the 24-column grid, without overlap', () => {
  for (const { g, p } of pairs()) {
    const gRows = rows(g);
    assert.deepEqual(
      p.spec.layouts.map((l) => [l.kind, l.spec.display.title]),
      gRows.map((r) => ['Grid', r.title]),
      `${g.uid}: one Grid layout per row`,
    );
    const refs: string[] = [];
    p.spec.layouts.forEach((l, i) => {
      const expected = gRows[i].panels.filter(isPrometheusPanel).map((gp) => [gp.gridPos.x, gp.gridPos.y - gRows[i].y, gp.gridPos.w, gp.gridPos.h]);
      assert.deepEqual(l.spec.items.map((it) => [it.x, it.y, it.width, it.height]), expected, `${g.uid} / ${l.spec.display.title}: positions`);
      const cells = new Set<string>();
      for (const it of l.spec.items) {
        const m = /^#\/spec\/panels\/([a-zA-Z0-9_-]+)$/.exec(it.content.$ref);
        assert.ok(m, `${g.uid}: reference ${it.content.$ref}`);
        assert.ok(p.spec.panels[m[1]], `${g.uid}: ${it.content.$ref} points to no panel`);
        assert.ok(m[1].length <= 75, `${g.uid}: panel key ${m[1]} longer than 75`);
        refs.push(m[1]);
        assert.ok(it.x >= 0 && it.y >= 0 && it.width > 0 && it.height > 0 && it.x + it.width <= 24, `${g.uid} / ${m[1]}: on the grid`);
        for (let x = it.x; x < it.x + it.width; x++) {
          for (let y = it.y; y < it.y + it.height; y++) {
            assert.ok(!cells.has(`${x},${y}`), `${g.uid} / ${m[1]}: overlaps another panel`);
            cells.add(`${x},${y}`);
          }
        }
      }
    });
    assert.deepEqual([...refs].sort(), Object.keys(p.spec.panels).sort(), `${g.uid}: every panel in exactly one layout item`);
    assert.equal(new Set(refs).size, refs.length, `${g.uid}: a panel placed twice`);
  }
});
