// PromQL fragments shared by the dashboards, so the same question is asked the same way everywhere.
// Metric names are the telemetry contract's (docs/design.md); each dashboard file says where the
// others (collector, k6) come from.

/** Grafana's rate window: at least four scrape intervals, follows the zoom level. */
export const RATE = '$__rate_interval';

/** Meridian's own services, as Prometheus `job` (locally the job is the service name). */
export const SERVICES_RE = 'service-a|service-b|preprocessing-edge|inference-.*';

/** The edge pipeline: the edge service and the three inference roles behind it. */
export const EDGE_PIPELINE_SERVICES = ['preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];

/** `{a, b}` from matcher strings, empty ones skipped; no braces when there is none. */
export function sel(...matchers: string[]): string {
  const m = matchers.filter(Boolean);
  return m.length ? `{${m.join(', ')}}` : '';
}

export const rate = (series: string, window = RATE): string => `rate(${series}[${window}])`;

export const sumBy = (by: string[], expr: string): string => (by.length ? `sum by (${by.join(', ')}) (${expr})` : `sum(${expr})`);

/** `histogram_quantile(q, sum(rate(<metric>_bucket{…}[w])) by (le, …))`, the canonical form. */
export function quantile(q: number, histogram: string, selector: string, by: string[], window = RATE): string {
  return `histogram_quantile(${q}, sum(rate(${histogram}_bucket${selector}[${window}])) by (${['le', ...by].join(', ')}))`;
}

/** Mean of a histogram or summary over the window: rate(_sum) / rate(_count). */
export function average(metric: string, selector: string, by: string[], window = RATE): string {
  return `${sumBy(by, rate(`${metric}_sum${selector}`, window))} / ${sumBy(by, rate(`${metric}_count${selector}`, window))}`;
}

/**
 * `expr`, or 0 for every series of `reference` where `expr` has none. For counters that only
 * exist after their first event (a service's first 5xx, an exporter's first failure): the panel
 * shows a real 0 instead of "No data", which would also be what a broken query shows.
 */
export function zeroIfAbsent(expr: string, reference: string): string {
  return `(${expr} or 0 * ${reference})`;
}

/**
 * Share of requests answered 5xx, by `by`, over the window; 0 (not absent) for a series with
 * traffic but no 5xx, absent for one without traffic (instead of 0/0).
 */
export function errorRatio(by: string[], matcher = '', window = RATE): string {
  const all = sumBy(by, rate(`http_requests_total${sel(matcher)}`, window));
  const errors = sumBy(by, rate(`http_requests_total${sel(matcher, 'status_code=~"5.."')}`, window));
  return `${zeroIfAbsent(errors, all)} / (${all} > 0)`;
}

/**
 * Sum of the rates of several counters, each counting as `zero` while it does not exist yet.
 * `zero` must be 0 only while the source is scraped (e.g. `0 * sum(otelcol_process_uptime)`), so a
 * gone source still shows "No data", not a reassuring 0. (One `rate({__name__=~"a|b"}[w])` would not
 * do: rate drops the name, and series differing only by name then collide.)
 */
export function totalRate(metrics: string[], zero: string, window = RATE): string {
  return metrics.map((m) => `(${sumBy([], rate(m, window))} or ${zero})`).join(' + ');
}
