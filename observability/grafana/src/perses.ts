// The same dashboards for Perses: each generated Grafana dashboard (dashboards/index.ts, built with
// grafana.ts) converted into a Perses v0.52 Dashboard resource, written to
// observability/perses/dashboards/<uid>.json by generate.ts. One definition, two outputs: nothing
// here knows about a particular dashboard, only about the subset of Grafana's JSON that the builders
// in grafana.ts produce. Anything outside that subset throws, so a new builder feature has to be
// given a Perses form (or an explicit "no equivalent") here before the generator runs again.
//
// Target: Perses v0.52.0 with these plugins only (see observability/perses/README.md):
//   Prometheus 0.53.4   PrometheusTimeSeriesQuery, PrometheusLabelValuesVariable
//   TimeSeriesChart 0.10.x, StatChart 0.10.0
// The BarChart, Markdown and Table plugins are not available here, so bar gauges become stat charts
// and the Jaeger trace table (no Jaeger datasource exists in Perses) is left out.
//
// Queries name no datasource: the Perses the suite runs provisions one default GlobalDatasource of
// kind PrometheusDatasource, which every query without a datasource uses. Grafana's `datasource`
// and `jaeger` variables therefore have no counterpart.

import type { Json, JsonObject } from './grafana';

export const PERSES_VERSION = 'v0.52.0';
/** The Perses project the dashboards belong to (observability/perses/provisioning/project.json). */
export const PERSES_PROJECT = 'meridian';

// ---------------------------------------------------------------------------------------------
// The Grafana subset grafana.ts produces (schemaVersion 39)

interface GrafanaStep {
  value: number | null;
  color: string;
}

interface GrafanaTarget {
  datasource?: { type?: string; uid?: string };
  expr?: string;
  legendFormat?: string;
  refId?: string;
}

interface GrafanaPanel {
  id?: number;
  type: string;
  title: string;
  description?: string;
  collapsed?: boolean;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  fieldConfig?: {
    defaults?: {
      unit?: string;
      decimals?: number;
      min?: number;
      max?: number;
      thresholds?: { mode?: string; steps?: GrafanaStep[] };
      mappings?: { type: string; options: Record<string, { text?: string; color?: string; index?: number }> }[];
      custom?: {
        fillOpacity?: number;
        lineWidth?: number;
        spanNulls?: boolean;
        drawStyle?: string;
        stacking?: { mode?: string };
        thresholdsStyle?: { mode?: string };
      };
    };
    overrides?: { matcher?: { id?: string; options?: string }; properties?: { id: string; value?: { mode?: string } }[] }[];
  };
  options?: {
    legend?: { showLegend?: boolean; displayMode?: string; placement?: string; calcs?: string[] };
    graphMode?: string;
    reduceOptions?: { calcs?: string[] };
  };
}

interface GrafanaVariable {
  type: string;
  name: string;
  label?: string;
  hide?: number;
  query?: string | { query?: string };
  definition?: string;
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
  sort?: number;
  current?: { value?: string | string[] };
}

interface GrafanaDashboard {
  uid: string;
  title: string;
  description?: string;
  refresh?: string;
  time?: { from?: string; to?: string };
  panels: GrafanaPanel[];
  templating?: { list?: GrafanaVariable[] };
}

// ---------------------------------------------------------------------------------------------
// Mappings

/**
 * Grafana unit → Perses format (common/format.cue of perses/cue v0.52.0). Perses shortens values
 * (1.2K) unless `shortValues: false`, which is Grafana's `none`; Grafana's `short` is the shortened one.
 */
export const UNIT_FORMAT: Readonly<Record<string, JsonObject>> = {
  reqps: { unit: 'requests/sec' },
  ops: { unit: 'ops/sec' },
  s: { unit: 'seconds' },
  percentunit: { unit: 'percent-decimal' },
  bytes: { unit: 'bytes' },
  Bps: { unit: 'bytes/sec' },
  short: { unit: 'decimal' },
  none: { unit: 'decimal', shortValues: false },
};

/** Grafana's named colours as hex (Perses' value mappings take hex only); the values of Perses' own Grafana migration. */
const COLOR: Readonly<Record<string, string>> = {
  green: '#73bf69',
  orange: '#ff9830',
  red: '#f2495c',
  yellow: '#fade2a',
  blue: '#5794f2',
  purple: '#b877d9',
};

/** Grafana reducer → Perses calculation (common/calculation.cue). */
const CALCULATION: Readonly<Record<string, string>> = {
  lastNotNull: 'last-number',
  last: 'last',
  firstNotNull: 'first-number',
  first: 'first',
  mean: 'mean',
  max: 'max',
  min: 'min',
  sum: 'sum',
};

/** Grafana variable sort (0..6) → Perses ListVariable sort. */
const SORT = ['none', 'alphabetical-asc', 'alphabetical-desc', 'numerical-asc', 'numerical-desc', 'alphabetical-ci-asc', 'alphabetical-ci-desc'];

/** Panel types of grafana.ts → the Perses panel plugin that shows them; `null`: no equivalent. */
export const PANEL_PLUGIN: Readonly<Record<string, string | null>> = {
  timeseries: 'TimeSeriesChart',
  stat: 'StatChart',
  // BarChart 0.10.0 is not available here (its schemas are not served); one stat tile per series
  // shows the same values, coloured by the same thresholds.
  bargauge: 'StatChart',
  // Grafana's table only shows Jaeger's trace search here: Perses has no Jaeger datasource.
  table: null,
};

const DURATION = /^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/;

function fail(where: string, what: string): never {
  throw new Error(`perses: ${where}: ${what}`);
}

function color(where: string, c: string): string {
  if (/^#(?:[0-9a-fA-F]{3}){1,2}$/.test(c)) return c.toLowerCase();
  return COLOR[c] ?? fail(where, `no hex value for the Grafana colour ${JSON.stringify(c)}`);
}

function format(where: string, p: GrafanaPanel): JsonObject {
  const d = p.fieldConfig?.defaults ?? {};
  const unit = d.unit ?? 'none';
  const f = UNIT_FORMAT[unit] ?? fail(where, `no Perses unit for the Grafana unit ${JSON.stringify(unit)}`);
  return d.decimals === undefined ? { ...f } : { ...f, decimalPlaces: d.decimals };
}

/** Grafana's steps: the first (value null) is the base colour, Perses' `defaultColor`. */
function thresholds(where: string, p: GrafanaPanel): JsonObject | undefined {
  const t = p.fieldConfig?.defaults?.thresholds;
  if (!t?.steps?.length) return undefined;
  if (t.mode !== undefined && t.mode !== 'absolute') fail(where, `threshold mode ${t.mode}`);
  const out: JsonObject = { mode: 'absolute' };
  const [first, ...rest] = t.steps;
  if (first.value === null) out.defaultColor = color(where, first.color);
  const steps = first.value === null ? rest : t.steps;
  out.steps = steps.map((s) => {
    if (s.value === null) fail(where, 'a threshold step without a value after the first');
    return { value: s.value, color: color(where, s.color) };
  });
  return out;
}

function calculation(where: string, calc: string): string {
  return CALCULATION[calc] ?? fail(where, `no Perses calculation for the Grafana reducer ${JSON.stringify(calc)}`);
}

// ---------------------------------------------------------------------------------------------
// Panels

function queries(where: string, p: GrafanaPanel): Json[] {
  const targets = p.targets ?? [];
  if (targets.length === 0) fail(where, 'no query');
  return targets.map((t) => {
    if (t.datasource?.type !== 'prometheus' || typeof t.expr !== 'string') fail(where, `query ${t.refId ?? '?'} is not a Prometheus query`);
    const spec: JsonObject = { query: t.expr };
    if (t.legendFormat !== undefined && t.legendFormat !== '__auto') spec.seriesNameFormat = t.legendFormat;
    return { kind: 'TimeSeriesQuery', spec: { plugin: { kind: 'PrometheusTimeSeriesQuery', spec } } };
  });
}

/**
 * TimeSeriesChart: legend, y axis (unit, decimals, hard min/max), thresholds when Grafana draws them
 * (thresholdsStyle not "off"), line width, fill, stacking. Per-query overrides have no equivalent
 * in TimeSeriesChart 0.10 (its querySettings only set colours) and are dropped.
 */
function timeSeriesChart(where: string, p: GrafanaPanel): JsonObject {
  const spec: JsonObject = {};
  const legend = p.options?.legend;
  if (legend && legend.showLegend !== false) {
    spec.legend = {
      position: legend.placement === 'right' ? 'right' : 'bottom',
      mode: legend.displayMode === 'table' ? 'table' : 'list',
      values: (legend.calcs ?? []).map((c) => calculation(where, c)),
    };
  }
  const d = p.fieldConfig?.defaults ?? {};
  const yAxis: JsonObject = { format: format(where, p) };
  if (d.min !== undefined) yAxis.min = d.min;
  if (d.max !== undefined) yAxis.max = d.max;
  spec.yAxis = yAxis;
  if ((d.custom?.thresholdsStyle?.mode ?? 'off') !== 'off') {
    const t = thresholds(where, p);
    if (t) spec.thresholds = t;
  }
  const c = d.custom ?? {};
  const visual: JsonObject = { display: c.drawStyle === 'bars' ? 'bar' : 'line' };
  if (c.lineWidth !== undefined) visual.lineWidth = Math.min(3, Math.max(0.25, c.lineWidth));
  if (c.fillOpacity !== undefined) visual.areaOpacity = c.fillOpacity / 100;
  if (c.spanNulls !== undefined) visual.connectNulls = c.spanNulls;
  // Perses stacks all series or none: a panel whose overrides take some series out of the stack
  // (the edge pipeline's model lines over the stacked stages) is not stacked, rather than adding
  // series up that do not add up.
  if ((c.stacking?.mode ?? 'none') !== 'none' && !overrides(where, p).some((o) => o.id === 'custom.stacking' && o.value?.mode === 'none')) {
    visual.stack = 'all';
  }
  spec.visual = visual;
  return spec;
}

/**
 * Per-series overrides grafana.ts may set. TimeSeriesChart 0.10 has no per-query settings but
 * colours, so none of them carries over (a second unit on a right-hand axis shows in the panel's
 * unit; dashed lines are solid); only custom.stacking changes the whole panel (above).
 */
const KNOWN_OVERRIDES = new Set(['custom.lineStyle', 'custom.fillOpacity', 'custom.lineWidth', 'custom.stacking', 'custom.axisPlacement', 'unit']);

function overrides(where: string, p: GrafanaPanel): { id: string; value?: { mode?: string } }[] {
  const props = (p.fieldConfig?.overrides ?? []).flatMap((o) => o.properties ?? []);
  for (const o of props) if (!KNOWN_OVERRIDES.has(o.id)) fail(where, `no conversion for the Grafana override ${o.id}`);
  return props;
}

/**
 * StatChart: the first reducer (lastNotNull → last-number), format, thresholds, value mappings, and
 * a sparkline when Grafana draws one (graphMode "area"). Grafana's colorMode (background tiles) has
 * no equivalent: Perses colours the value. Several series show as one tile each, named by
 * seriesNameFormat, as Grafana's "value and name".
 */
function statChart(where: string, p: GrafanaPanel): JsonObject {
  const calcs = p.options?.reduceOptions?.calcs ?? ['lastNotNull'];
  const spec: JsonObject = { calculation: calculation(where, calcs[0] ?? 'lastNotNull'), format: format(where, p) };
  const t = thresholds(where, p);
  if (t) spec.thresholds = t;
  if (p.options?.graphMode === 'area') spec.sparkline = {};
  const mappings: Json[] = [];
  for (const m of p.fieldConfig?.defaults?.mappings ?? []) {
    if (m.type !== 'value') fail(where, `value mapping of type ${m.type}`);
    const options = Object.entries(m.options).sort(([, a], [, b]) => (a.index ?? 0) - (b.index ?? 0));
    for (const [value, o] of options) {
      const result: JsonObject = { value: o.text ?? value };
      if (o.color !== undefined) result.color = color(where, o.color);
      mappings.push({ kind: 'Value', spec: { value, result } });
    }
  }
  if (mappings.length) spec.mappings = mappings;
  return spec;
}

function panelSpec(where: string, p: GrafanaPanel, plugin: string): JsonObject {
  const display: JsonObject = { name: p.title };
  if (p.description) display.description = p.description;
  const pluginSpec = plugin === 'TimeSeriesChart' ? timeSeriesChart(where, p) : statChart(where, p);
  // Grafana's data links (fieldConfig.defaults.links, e.g. the overview's drill-down to a service)
  // use per-series fields (${__field.labels.job}) that Perses' panel links do not have: dropped.
  return { kind: 'Panel', spec: { display, plugin: { kind: plugin, spec: pluginSpec }, queries: queries(where, p) } };
}

/** Perses panel keys: [a-zA-Z0-9_-] (ids allow dots, JSON references do not), at most 75 characters. */
function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function panelKey(row: string, title: string, taken: Set<string>): string {
  // <row>_<title>: a title can repeat in another row (k6: "Virtual users" as a stat and a graph).
  const base = `${slug(row)}_${slug(title)}`.slice(0, 72).replace(/[-_]+$/, '') || 'panel';
  let key = base;
  for (let n = 2; taken.has(key); n++) key = `${base}-${n}`;
  taken.add(key);
  return key;
}

// ---------------------------------------------------------------------------------------------
// Variables

function variable(where: string, v: GrafanaVariable): Json {
  if (v.type !== 'query') fail(where, `variable $${v.name} of type ${v.type}`);
  const text = typeof v.query === 'string' ? v.query : v.query?.query ?? v.definition ?? '';
  const m = /^label_values\((?:(.*),)?\s*([a-zA-Z0-9_]+)\)$/.exec(text.trim());
  if (!m) fail(where, `variable $${v.name}: only label_values(<selector>, <label>) converts, not ${JSON.stringify(text)}`);
  const plugin: JsonObject = { labelName: m[2] };
  if (m[1]?.trim()) plugin.matchers = [m[1].trim()];
  const spec: JsonObject = { name: v.name, display: { name: v.label ?? v.name, hidden: (v.hide ?? 0) !== 0 } };
  const allowAllValue = v.includeAll ?? false;
  const allowMultiple = v.multi ?? false;
  const current = v.current?.value;
  const selectsAll = current === '$__all' || (Array.isArray(current) && current.length === 1 && current[0] === '$__all');
  // "$__all" is Perses' "All" value too; other Grafana defaults come from the data, none is set.
  if (allowAllValue && selectsAll) spec.defaultValue = '$__all';
  spec.allowAllValue = allowAllValue;
  spec.allowMultiple = allowMultiple;
  if (allowAllValue && v.allValue !== undefined) spec.customAllValue = v.allValue;
  if (v.sort !== undefined) spec.sort = SORT[v.sort] ?? fail(where, `variable $${v.name}: sort ${v.sort}`);
  spec.plugin = { kind: 'PrometheusLabelValuesVariable', spec: plugin };
  return { kind: 'ListVariable', spec };
}

// ---------------------------------------------------------------------------------------------
// Dashboards

export interface OmittedPanel {
  row: string;
  title: string;
  reason: string;
}

export interface Conversion {
  dashboard: JsonObject;
  /** Grafana panels without a Perses equivalent, left out. */
  omitted: OmittedPanel[];
}

/** `now-30m` → `30m`. */
function duration(where: string, from: string | undefined): string {
  const m = /^now-(.+)$/.exec(from ?? 'now-1h');
  if (!m || !DURATION.test(m[1])) fail(where, `time.from ${JSON.stringify(from)} is not now-<duration>`);
  return m[1];
}

/** One generated Grafana dashboard as a Perses Dashboard resource, with what was left out. */
export function convert(grafana: JsonObject): Conversion {
  const g = grafana as unknown as GrafanaDashboard;
  const where = g.uid;
  if (typeof g.uid !== 'string' || !g.uid) fail('?', 'dashboard without uid');

  const variables = (g.templating?.list ?? []).filter((v) => v.type !== 'datasource').map((v) => variable(where, v));

  const panels: JsonObject = {};
  const layouts: Json[] = [];
  const omitted: OmittedPanel[] = [];
  const taken = new Set<string>();
  let row: { title: string; y: number; items: Json[] } | undefined;
  const closeRow = (): void => {
    if (row) layouts.push({ kind: 'Grid', spec: { display: { title: row.title, collapse: { open: true } }, items: row.items } });
  };
  const place = (p: GrafanaPanel): void => {
    const at = `${where} / "${p.title}"`;
    if (!row) fail(at, 'a panel outside a row');
    if (!(p.type in PANEL_PLUGIN)) fail(at, `no conversion for Grafana panel type ${p.type}`);
    const plugin = PANEL_PLUGIN[p.type];
    if (!plugin) {
      const sources = [...new Set((p.targets ?? []).map((t) => t.datasource?.type ?? '?'))].join(', ');
      omitted.push({ row: row.title, title: p.title, reason: `a ${p.type} of ${sources} data: no Perses equivalent` });
      return;
    }
    const key = panelKey(row.title, p.title, taken);
    panels[key] = panelSpec(at, p, plugin);
    const y = p.gridPos.y - row.y;
    if (y < 0) fail(at, 'above its row');
    row.items.push({ x: p.gridPos.x, y, width: p.gridPos.w, height: p.gridPos.h, content: { $ref: `#/spec/panels/${key}` } });
  };
  for (const p of g.panels) {
    if (p.type === 'row') {
      closeRow();
      // Items are re-based to the row: the first line under the row title is y = 0.
      row = { title: p.title, y: p.gridPos.y + p.gridPos.h, items: [] };
      if (p.collapsed) fail(`${where} / row "${p.title}"`, 'collapsed rows are not produced by grafana.ts');
      continue;
    }
    place(p);
  }
  closeRow();

  const display: JsonObject = { name: g.title };
  if (g.description) display.description = g.description;
  const spec: JsonObject = { display, duration: duration(where, g.time?.from) };
  if (g.refresh) {
    if (!DURATION.test(g.refresh)) fail(where, `refresh ${JSON.stringify(g.refresh)}`);
    spec.refreshInterval = g.refresh;
  }
  // Perses leaves an empty list out (omitempty): so does the file, which then round-trips exactly.
  if (variables.length) spec.variables = variables;
  spec.panels = panels;
  spec.layouts = layouts;
  return {
    dashboard: { kind: 'Dashboard', metadata: { name: g.uid, project: PERSES_PROJECT }, spec },
    omitted,
  };
}

/** One generated Grafana dashboard as a Perses Dashboard resource. */
export function toPerses(grafana: JsonObject): JsonObject {
  return convert(grafana).dashboard;
}

/** Stable text for a Perses dashboard file: two-space JSON and a final newline (as Grafana's). */
export function renderPerses(d: JsonObject): string {
  return JSON.stringify(d, null, 2) + '\n';
}
