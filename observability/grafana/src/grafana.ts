// A small typed model of the Grafana dashboard JSON (schemaVersion 39, Grafana 10.4+/11) and the
// panel builders every Meridian dashboard shares, so units, thresholds, legends and datasource
// references stay the same everywhere. The output is plain JSON that Grafana loads as is: through
// file provisioning in compose, through the sidecar's ConfigMaps in the Helm chart.

export const SCHEMA_VERSION = 39;

/** Width of Grafana's grid. */
const GRID_WIDTH = 24;

export interface DataSourceRef {
  type: string;
  uid: string;
}

/**
 * Datasources are never referenced by a fixed uid: every query goes through a `datasource`
 * template variable (type `datasource`), so the same JSON works with whatever Prometheus (and
 * Jaeger) the Grafana at hand has provisioned, under any uid.
 */
export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
export const JAEGER: DataSourceRef = { type: 'jaeger', uid: '${jaeger}' };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// ---------------------------------------------------------------------------------------------
// Queries

export interface PromQuery {
  expr: string;
  /** Grafana legend template, e.g. `{{job}}`. */
  legend?: string;
}

export interface JaegerSearch {
  jaegerService: string;
  limit: number;
}

export type Query = PromQuery | JaegerSearch;

export const q = (expr: string, legend?: string): PromQuery => ({ expr, legend });

function refId(i: number): string {
  return String.fromCharCode('A'.charCodeAt(0) + i);
}

function target(query: Query, i: number, instant: boolean): JsonObject {
  if ('jaegerService' in query) {
    return {
      datasource: { ...JAEGER },
      queryType: 'search',
      service: query.jaegerService,
      limit: query.limit,
      refId: refId(i),
    };
  }
  return {
    datasource: { ...PROMETHEUS },
    editorMode: 'code',
    expr: query.expr,
    instant,
    legendFormat: query.legend ?? '__auto',
    range: !instant,
    refId: refId(i),
  };
}

// ---------------------------------------------------------------------------------------------
// Units and thresholds: one place, so "p95" or "5xx share" looks the same on every dashboard.

export const UNIT = {
  reqps: 'reqps',
  ops: 'ops',
  seconds: 's',
  ratio: 'percentunit',
  /** CPU as a share of one core (1 = a full core). */
  cores: 'percentunit',
  bytes: 'bytes',
  bytesPerSecond: 'Bps',
  count: 'short',
  none: 'none',
} as const;

export interface Step {
  value: number | null;
  color: string;
}

const steps = (...s: [number | null, string][]): Step[] => s.map(([value, color]) => ({ color, value }));

/**
 * Thresholds follow the alert rules in observability/prometheus/rules/, so a panel turns orange
 * or red where an alert would start to care.
 */
export const THRESHOLD = {
  neutral: steps([null, 'green']),
  /** HighLatencyP95 fires above 0.5 s. */
  latency: steps([null, 'green'], [0.5, 'orange'], [1, 'red']),
  /** 1%: the 99% availability SLO's budget; 5%: HighErrorRatio. */
  errorRatio: steps([null, 'green'], [0.01, 'orange'], [0.05, 'red']),
  /** HighCpu fires above half a core. */
  cpu: steps([null, 'green'], [0.5, 'orange'], [0.9, 'red']),
  eventLoopLag: steps([null, 'green'], [0.1, 'orange'], [0.5, 'red']),
  /** ServiceRestarting fires above 2 restarts in 10 minutes. */
  restarts: steps([null, 'green'], [1, 'orange'], [3, 'red']),
  /** CollectorDroppingTelemetry warns from 90% queue usage. */
  queueUsage: steps([null, 'green'], [0.7, 'orange'], [0.9, 'red']),
  /** Anything above zero is worth a look (refused or failed telemetry). */
  anyLoss: steps([null, 'green'], [1e-9, 'red']),
  /** Check pass rate of a load test: green only when (almost) every check passes. */
  checks: steps([null, 'red'], [0.95, 'orange'], [0.99, 'green']),
  up: steps([null, 'red'], [1, 'green']),
} as const;

export interface ValueText {
  value: number;
  text: string;
  color: string;
}

/** 1 → UP (green), 0 → DOWN (red). */
export const UP_DOWN: ValueText[] = [
  { value: 1, text: 'UP', color: 'green' },
  { value: 0, text: 'DOWN', color: 'red' },
];

function mappings(values: ValueText[]): Json[] {
  if (values.length === 0) return [];
  const options: JsonObject = {};
  values.forEach((v, index) => {
    options[String(v.value)] = { color: v.color, index, text: v.text };
  });
  return [{ options, type: 'value' }];
}

// ---------------------------------------------------------------------------------------------
// Panels

export interface Link {
  title: string;
  url: string;
}

interface Common {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  thresholds?: Step[];
  min?: number;
  max?: number;
  decimals?: number;
  links?: Link[];
  /** Grid width (of 24) and height; defaults depend on the panel type. */
  w?: number;
  h?: number;
}

export interface Panel {
  w: number;
  h: number;
  json: JsonObject;
}

function fieldDefaults(o: Common, extra: JsonObject, valueMappings: ValueText[] = []): JsonObject {
  const d: JsonObject = {
    ...extra,
    color: extra.color ?? { mode: 'palette-classic' },
    mappings: mappings(valueMappings),
    thresholds: { mode: 'absolute', steps: (o.thresholds ?? THRESHOLD.neutral) as unknown as Json[] },
    unit: o.unit ?? UNIT.none,
  };
  if (o.min !== undefined) d.min = o.min;
  if (o.max !== undefined) d.max = o.max;
  if (o.decimals !== undefined) d.decimals = o.decimals;
  if (o.links) d.links = o.links.map((l) => ({ title: l.title, url: l.url }));
  return d;
}

function panelBase(type: string, o: Common, instant: boolean): JsonObject {
  return {
    type,
    title: o.title,
    description: o.description,
    datasource: o.queries.some((x) => 'jaegerService' in x) ? { ...JAEGER } : { ...PROMETHEUS },
    targets: o.queries.map((x, i) => target(x, i, instant)),
  };
}

export interface Override {
  /** Targets (by position in `queries`) the override applies to. */
  queries: number[];
  properties: { id: string; value: Json }[];
}

export interface TimeseriesOptions extends Common {
  /** Stack the series (e.g. time per stage adding up to the whole request). */
  stack?: boolean;
  fill?: number;
  overrides?: Override[];
  /** Draw the thresholds as dashed lines. */
  showThresholds?: boolean;
}

export function timeseries(o: TimeseriesOptions): Panel {
  const json = panelBase('timeseries', o, false);
  json.fieldConfig = {
    defaults: fieldDefaults(o, {
      custom: {
        axisBorderShow: false,
        axisPlacement: 'auto',
        axisSoftMin: 0,
        drawStyle: 'line',
        fillOpacity: o.fill ?? (o.stack ? 60 : 10),
        gradientMode: 'none',
        lineInterpolation: 'linear',
        lineWidth: 1,
        pointSize: 4,
        showPoints: 'never',
        spanNulls: false,
        stacking: { group: 'A', mode: o.stack ? 'normal' : 'none' },
        thresholdsStyle: { mode: o.showThresholds ? 'dashed' : 'off' },
      },
    }),
    overrides: (o.overrides ?? []).flatMap((ov) =>
      ov.queries.map((i) => ({
        matcher: { id: 'byFrameRefID', options: refId(i) },
        properties: ov.properties as unknown as Json[],
      })),
    ),
  };
  json.options = {
    legend: { calcs: ['mean', 'max', 'lastNotNull'], displayMode: 'table', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  };
  return { w: o.w ?? 12, h: o.h ?? 8, json };
}

export interface StatOptions extends Common {
  valueMappings?: ValueText[];
  /** `background` colours the whole tile by threshold/mapping (status tiles). */
  colorMode?: 'background' | 'value' | 'none';
  /** Show the series name with the value (one tile per series). */
  showName?: boolean;
  /** A range query with a sparkline instead of an instant value. */
  sparkline?: boolean;
}

export function stat(o: StatOptions): Panel {
  const json = panelBase('stat', o, !o.sparkline);
  json.fieldConfig = {
    defaults: fieldDefaults(o, { color: { mode: 'thresholds' } }, o.valueMappings),
    overrides: [],
  };
  json.options = {
    colorMode: o.colorMode ?? 'value',
    graphMode: o.sparkline ? 'area' : 'none',
    justifyMode: 'auto',
    orientation: 'auto',
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    showPercentChange: false,
    textMode: o.showName ? 'value_and_name' : 'value',
    wideLayout: true,
  };
  return { w: o.w ?? 6, h: o.h ?? 4, json };
}

export function barGauge(o: Common): Panel {
  const json = panelBase('bargauge', o, true);
  json.fieldConfig = {
    defaults: fieldDefaults(o, { color: { mode: 'thresholds' } }),
    overrides: [],
  };
  json.options = {
    displayMode: 'gradient',
    maxVizHeight: 300,
    minVizHeight: 16,
    minVizWidth: 8,
    namePlacement: 'auto',
    orientation: 'horizontal',
    reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
    showUnfilled: true,
    sizing: 'auto',
    valueMode: 'color',
  };
  return { w: o.w ?? 12, h: o.h ?? 8, json };
}

/** A table, e.g. Jaeger's trace search results (one row per trace, linking to the trace view). */
export function table(o: Common): Panel {
  const json = panelBase('table', o, true);
  json.fieldConfig = {
    defaults: fieldDefaults(o, { custom: { align: 'auto', cellOptions: { type: 'auto' }, inspect: false } }),
    overrides: [],
  };
  json.options = { cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, showHeader: true };
  return { w: o.w ?? 24, h: o.h ?? 8, json };
}

// ---------------------------------------------------------------------------------------------
// Variables

export interface Variable {
  json: JsonObject;
}

/** The one datasource variable (`type: datasource`), e.g. datasourceVariable('datasource', 'prometheus'). */
export function datasourceVariable(name: string, pluginType: string, label: string): Variable {
  return {
    json: {
      current: {},
      hide: 0,
      includeAll: false,
      label,
      multi: false,
      name,
      options: [],
      query: pluginType,
      refresh: 1,
      regex: '',
      skipUrlSync: false,
      type: 'datasource',
    },
  };
}

export interface QueryVariableOptions {
  name: string;
  label: string;
  /** Prometheus variable query, e.g. `label_values(http_requests_total, job)`. */
  query: string;
  includeAll?: boolean;
  multi?: boolean;
  /** Value of "All" (a regex for `=~` matchers). */
  allValue?: string;
}

export function queryVariable(o: QueryVariableOptions): Variable {
  const json: JsonObject = {
    current: o.includeAll ? { selected: true, text: ['All'], value: ['$__all'] } : {},
    datasource: { ...PROMETHEUS },
    definition: o.query,
    hide: 0,
    includeAll: o.includeAll ?? false,
    label: o.label,
    multi: o.multi ?? false,
    name: o.name,
    options: [],
    query: { qryType: 1, query: o.query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    refresh: 2,
    regex: '',
    skipUrlSync: false,
    sort: 1,
    type: 'query',
  };
  if (o.allValue !== undefined) json.allValue = o.allValue;
  return { json };
}

// ---------------------------------------------------------------------------------------------
// Dashboards

export interface Row {
  title: string;
  panels: Panel[];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  variables: Variable[];
  rows: Row[];
  /** Default time range, e.g. `now-30m`. */
  from?: string;
  refresh?: string;
}

/** Lays rows out top to bottom and panels left to right, wrapping at the grid width; ids in order. */
function layout(rows: Row[]): Json[] {
  const out: Json[] = [];
  let y = 0;
  let id = 1;
  for (const row of rows) {
    out.push({ collapsed: false, gridPos: { h: 1, w: GRID_WIDTH, x: 0, y }, id: id++, panels: [], title: row.title, type: 'row' });
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const p of row.panels) {
      if (p.w > GRID_WIDTH) throw new Error(`panel "${String(p.json.title)}" is wider than the grid`);
      if (x + p.w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      out.push({ ...p.json, gridPos: { h: p.h, w: p.w, x, y }, id: id++ });
      x += p.w;
      lineHeight = Math.max(lineHeight, p.h);
    }
    y += lineHeight;
  }
  return out;
}

export function dashboard(spec: DashboardSpec): JsonObject {
  return {
    annotations: { list: [] },
    description: spec.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [
      // Every Meridian dashboard carries the `meridian` tag: one drop-down to the others.
      { asDropdown: true, icon: 'external link', includeVars: false, keepTime: true, tags: ['meridian'], targetBlank: false, title: 'Meridian', type: 'dashboards' },
    ],
    panels: layout(spec.rows),
    refresh: spec.refresh ?? '10s',
    schemaVersion: SCHEMA_VERSION,
    tags: spec.tags,
    templating: { list: spec.variables.map((v) => v.json) },
    time: { from: spec.from ?? 'now-30m', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: spec.title,
    uid: spec.uid,
    version: 1,
    weekStart: '',
  };
}

/** Stable text for a dashboard file: two-space JSON and a final newline. */
export function render(d: Json): string {
  return JSON.stringify(d, null, 2) + '\n';
}
