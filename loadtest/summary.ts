// The end-of-test text summary. k6 prints its own only when handleSummary does not exist, and its
// formatter is not importable offline, so this one prints what matters here: thresholds with their
// values, checks, and latency per route.

export interface SummaryMetric {
  type: 'counter' | 'gauge' | 'rate' | 'trend';
  contains?: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}
export interface SummaryCheck {
  name: string;
  passes: number;
  fails: number;
}
export interface SummaryGroup {
  name: string;
  checks: SummaryCheck[];
  groups: SummaryGroup[];
}
export interface SummaryData {
  metrics: Record<string, SummaryMetric>;
  root_group: SummaryGroup;
  state: { testRunDurationMs: number };
}

function allChecks(g: SummaryGroup): SummaryCheck[] {
  return [...(g.checks ?? []), ...(g.groups ?? []).flatMap(allChecks)];
}

function fmt(value: number | undefined, metric: SummaryMetric): string {
  if (value === undefined || Number.isNaN(value)) return '-';
  if (metric.type === 'trend' && metric.contains === 'time') return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
  if (metric.type === 'rate') return `${(value * 100).toFixed(2)}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** `p(95)<300` → `p(95)`, the statistic a threshold is about. */
function statOf(expression: string): string {
  return expression.trim().split(/\s*[<>=!]/)[0];
}

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padLeft = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function textSummary(data: SummaryData, heading: string): string {
  const lines: string[] = ['', heading, ''];
  const metrics = data.metrics;

  const thresholdRows: string[][] = [];
  let failed = 0;
  for (const [name, metric] of Object.entries(metrics).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [expression, result] of Object.entries(metric.thresholds ?? {})) {
      if (!result.ok) failed++;
      thresholdRows.push([result.ok ? 'ok  ' : 'FAIL', name, expression, fmt(metric.values[statOf(expression)], metric)]);
    }
  }
  const nameWidth = Math.max(...thresholdRows.map((r) => r[1].length), 10);
  lines.push(`thresholds: ${thresholdRows.length - failed} passed, ${failed} failed`);
  for (const [mark, name, expression, value] of thresholdRows) lines.push(`  ${mark} ${pad(name, nameWidth)}  ${pad(expression, 14)} ${value}`);

  const checks = allChecks(data.root_group);
  const passes = checks.reduce((n, c) => n + c.passes, 0);
  const fails = checks.reduce((n, c) => n + c.fails, 0);
  lines.push('', `checks: ${passes} passed, ${fails} failed`);
  for (const c of checks.filter((c) => c.fails > 0)) lines.push(`  FAIL ${c.name}: ${c.fails} of ${c.passes + c.fails} failed`);

  const routes = Object.entries(metrics)
    .map(([name, metric]) => ({ route: /^http_req_duration\{route:(.*)\}$/.exec(name)?.[1], metric }))
    .filter((r): r is { route: string; metric: SummaryMetric } => r.route !== undefined)
    .sort((a, b) => a.route.localeCompare(b.route));
  if (routes.length) {
    const w = Math.max(...routes.map((r) => r.route.length), 5);
    lines.push('', `${pad('route', w + 2)}${padLeft('reqs', 7)}${padLeft('avg', 11)}${padLeft('p95', 11)}${padLeft('p99', 11)}${padLeft('max', 11)}`);
    for (const { route, metric } of routes) {
      const v = metric.values;
      lines.push(
        `  ${pad(route, w)}${padLeft(fmt(v.count, { type: 'counter', values: {} }), 7)}` +
          ['avg', 'p(95)', 'p(99)', 'max'].map((s) => padLeft(fmt(v[s], metric), 11)).join(''),
      );
    }
  }

  const reqs = metrics.http_reqs?.values;
  const failedRate = metrics.http_req_failed?.values.rate;
  lines.push(
    '',
    `http_reqs ${reqs?.count ?? 0} (${(reqs?.rate ?? 0).toFixed(1)}/s), failed ${failedRate === undefined ? '-' : `${(failedRate * 100).toFixed(2)}%`}, ` +
      `iterations ${metrics.iterations?.values.count ?? 0}, vus_max ${metrics.vus_max?.values.value ?? 0}, ` +
      `${(data.state.testRunDurationMs / 1000).toFixed(1)} s`,
    failed ? `RESULT: ${failed} threshold(s) missed` : 'RESULT: all thresholds met',
    '',
  );
  return lines.join('\n');
}
