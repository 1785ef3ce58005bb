// The Grafana dashboards in observability/grafana/dashboards/ (what Grafana loads) are checked
// against their TypeScript generator, for their structure, and every query against the real,
// pinned Prometheus: first that it parses, then that it returns data from the local stack
// (`npm start` on free ports) after real traffic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { freePort, LocalStack, REPO_ROOT, request, startTool, type ToolProcess } from '@meridian/test-kit';

const HOST = '127.0.0.1';

const dashboardsDir = join(REPO_ROOT, 'observability', 'grafana', 'dashboards');
const generator = join(REPO_ROOT, 'observability', 'grafana', 'dist', 'src', 'generate.js');

// ---------------------------------------------------------------------------------------------
// The dashboard JSON, as Grafana reads it

interface DataSourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  expr?: string;
  datasource?: DataSourceRef;
  queryType?: string;
  service?: string;
  limit?: number;
}
interface Panel {
  id?: number;
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: DataSourceRef | string;
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  datasource?: DataSourceRef;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Variable[] };
}

function loadDashboards(dir = dashboardsDir): { file: string; d: Dashboard }[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => ({ file, d: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Dashboard }));
}

/** Every panel, the ones inside collapsed rows included. */
function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

function promQueries(d: Dashboard): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? [])
      .filter((t) => t.datasource?.type === 'prometheus')
      .map((t) => ({ dashboard: d.uid, panel: p.title, refId: t.refId ?? '?', expr: t.expr ?? '' })),
  );
}

function variableQuery(v: Variable): string {
  return typeof v.query === 'string' ? v.query : String((v.query as { query?: string }).query ?? '');
}

const name = (q: PanelQuery): string => `${q.dashboard} / "${q.panel}" / ${q.refId}: ${q.expr}`;

/**
 * What Grafana substitutes before a query reaches Prometheus: its built-in intervals, and the
 * dashboards' own variables (a real job name for $service, "All" for $testid).
 */
const GRAFANA_VALUES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '30s',
  __range: '5m',
  service: 'service-a',
  testid: '.*',
};

function substitute(expr: string): string {
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)/g, (m, braced: string | undefined, bare: string | undefined) => {
    const v = GRAFANA_VALUES[braced ?? bare ?? ''];
    if (v === undefined) throw new Error(`no test value for Grafana variable ${m} in: ${expr}`);
    return v;
  });
}

const referencedVariables = (expr: string): string[] => [...expr.matchAll(/\$\{(\w+)(?::[^}]*)?\}|\$(\w+)/g)].map((m) => m[1] ?? m[2]);

// ---------------------------------------------------------------------------------------------
// Prometheus

interface PromAnswer {
  httpStatus: number;
  status?: string;
  errorType?: string;
  error?: string;
  result?: { metric: Record<string, string>; value: [number, string] }[];
}

async function promQuery(base: string, expr: string): Promise<PromAnswer> {
  const res = await request(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }).toString(),
  });
  return { httpStatus: res.status, status: res.json?.status, errorType: res.json?.errorType, error: res.json?.error, result: res.json?.data?.result };
}

/** undefined when Prometheus parses `expr`; its complaint when it does not (400 bad_data). */
async function parseError(base: string, expr: string): Promise<string | undefined> {
  const a = await promQuery(base, expr);
  if (a.httpStatus === 200 && a.status === 'success') return undefined;
  return `${a.httpStatus} ${a.errorType ?? ''}: ${a.error ?? 'no error message'}`;
}

/** Data means at least one series with a number (histogram_quantile over nothing gives NaN). */
function hasData(a: PromAnswer): boolean {
  return (a.result ?? []).some((r) => !Number.isNaN(Number(r.value[1])));
}

async function startPrometheus(dir: string): Promise<{ proc: ToolProcess; url: string }> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  // Nothing to scrape: only the query parser and evaluator are needed.
  writeFileSync(config, 'global:\n  scrape_interval: 15s\n');
  const url = `http://${HOST}:${port}`;
  const proc = await startTool(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${HOST}:${port}`, '--log.level=warn'],
    { readyUrl: `${url}/-/ready` },
  );
  return { proc, url };
}

// ---------------------------------------------------------------------------------------------

test('the committed dashboards are exactly what the generator writes (edit observability/grafana/src, then npm run dashboards)', () => {
  assert.ok(existsSync(generator), `${generator} missing: run npx tsc -b`);
  const outs = [mkdtempSync(join(tmpdir(), 'meridian-dashboards-')), mkdtempSync(join(tmpdir(), 'meridian-dashboards-'))];
  try {
    for (const out of outs) {
      const r = spawnSync(process.execPath, [generator, '--out', out], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `the generator failed:\n${r.stdout}${r.stderr}`);
    }
    const fresh = readdirSync(outs[0]).sort();
    assert.deepEqual(readdirSync(outs[1]).sort(), fresh);
    for (const f of fresh) assert.equal(readFileSync(join(outs[1], f), 'utf8'), readFileSync(join(outs[0], f), 'utf8'), `the generator is not deterministic: ${f}`);
    const committed = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(committed, fresh, 'observability/grafana/dashboards/ holds other files than the generator writes: run npm run dashboards');
    for (const f of fresh) {
      assert.ok(
        readFileSync(join(dashboardsDir, f), 'utf8') === readFileSync(join(outs[0], f), 'utf8'),
        `observability/grafana/dashboards/${f} differs from the generator's output: edit observability/grafana/src and run npx tsc -b && npm run dashboards`,
      );
    }
    // The generator's own --check agrees.
    const check = spawnSync(process.execPath, [generator, '--check'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(check.status, 0, check.stderr);
  } finally {
    for (const out of outs) rmSync(out, { recursive: true, force: true });
  }
});

test('the generator --check fails on a hand-edited dashboard', () => {
  const out = mkdtempSync(join(tmpdir(), 'meridian-dashboards-'));
  try {
    assert.equal(spawnSync(process.execPath, [generator, '--out', out], { timeout: 30_000 }).status, 0);
    const file = join(out, 'meridian-overview.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"Meridian overview"', '"Edited by hand"'));
    const r = spawnSync(process.execPath, [generator, '--out', out, '--check'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `--check accepted an edited file:\n${r.stderr}`);
    assert.match(r.stderr, /meridian-overview\.json: differs/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('every dashboard: unique uid and title, schemaVersion 39, datasource variable, no hard-coded datasource uid', () => {
  const all = loadDashboards();
  const uids = ['meridian-overview', 'meridian-service', 'meridian-edge-pipeline', 'meridian-collector', 'meridian-k6'];
  assert.deepEqual(all.map((x) => x.d.uid).sort(), [...uids].sort());
  assert.equal(new Set(all.map((x) => x.d.title)).size, all.length, 'two dashboards share a title');
  for (const { file, d } of all) {
    assert.equal(file, `${d.uid}.json`, `${file}: the file is named after the uid`);
    assert.equal(d.schemaVersion, 39, `${d.uid}: schemaVersion`);
    const vars = d.templating.list;
    const ds = vars.find((v) => v.name === 'datasource');
    assert.ok(ds, `${d.uid}: no "datasource" variable`);
    assert.equal(ds.type, 'datasource', `${d.uid}: $datasource is not of type datasource`);
    assert.equal(ds.query, 'prometheus', `${d.uid}: $datasource does not list Prometheus datasources`);
    const dsVars = new Map(vars.filter((v) => v.type === 'datasource').map((v) => [v.name, String(v.query)]));

    // Every datasource reference anywhere in the JSON goes through a datasource variable of its type.
    const refs: { where: string; ref: unknown }[] = [];
    const walk = (node: unknown, where: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'datasource') refs.push({ where: `${where}.${k}`, ref: v });
          walk(v, `${where}.${k}`);
        }
      }
    };
    walk(d, d.uid);
    assert.ok(refs.length > 0);
    for (const { where, ref } of refs) {
      assert.ok(ref && typeof ref === 'object', `${where}: datasource by name (${JSON.stringify(ref)}), not through a variable`);
      const { type, uid } = ref as DataSourceRef;
      const m = /^\$\{(\w+)\}$/.exec(uid ?? '');
      assert.ok(m, `${where}: hard-coded datasource uid ${JSON.stringify(uid)}`);
      assert.equal(dsVars.get(m[1]), type, `${where}: uid ${uid} is not a datasource variable of type ${type}`);
    }

    // Panels: unique ids, on the 24-column grid, unique refIds, only known variables in queries.
    const panels = allPanels(d);
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, `${d.uid}: duplicate panel ids`);
    const defined = new Set([...vars.map((v) => v.name), '__rate_interval', '__interval', '__range']);
    for (const p of panels) {
      assert.ok(p.gridPos && p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, `${d.uid} / "${p.title}": gridPos`);
      if (p.type === 'row') continue;
      assert.ok(p.targets && p.targets.length > 0, `${d.uid} / "${p.title}": no query`);
      assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, `${d.uid} / "${p.title}": duplicate refIds`);
    }
    for (const q of promQueries(d)) {
      assert.ok(q.expr.trim(), `${name(q)}: empty expression`);
      for (const v of referencedVariables(q.expr)) assert.ok(defined.has(v), `${name(q)}: undefined variable $${v}`);
    }
  }
});

describe('every dashboard query parses as PromQL (real Prometheus)', () => {
  let dir: string;
  let prom: { proc: ToolProcess; url: string };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'meridian-dashboards-prom-'));
    prom = await startPrometheus(dir);
  });
  after(async () => {
    if (prom) await prom.proc.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the check rejects broken PromQL and accepts valid PromQL', async () => {
    assert.match((await parseError(prom.url, 'sum(rate(x[5m])')) ?? 'accepted', /400 bad_data/);
    assert.match((await parseError(prom.url, 'rate(up)')) ?? 'accepted', /400 bad_data/, 'a type error (range function on an instant vector)');
    assert.match((await parseError(prom.url, substitute('sum(rate(x[$__rate_interval])) by (le'))) ?? 'accepted', /400 bad_data/);
    assert.equal(await parseError(prom.url, 'sum(rate(x[5m])) by (route)'), undefined);
    assert.equal(await parseError(prom.url, substitute('histogram_quantile(0.95, sum(rate(x_bucket{job="$service"}[$__rate_interval])) by (le))')), undefined);
    assert.throws(() => substitute('up{job="$nope"}'), /no test value for Grafana variable \$nope/);
  });

  test('every panel and variable query of every dashboard', async () => {
    const failures: string[] = [];
    let count = 0;
    for (const { d } of loadDashboards()) {
      for (const q of promQueries(d)) {
        count++;
        const err = await parseError(prom.url, substitute(q.expr));
        if (err) failures.push(`${name(q)}\n    → ${err}`);
      }
      for (const v of d.templating.list.filter((x) => x.type === 'query')) {
        count++;
        const text = variableQuery(v);
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(text);
        if (!m) failures.push(`${d.uid} / variable $${v.name}: not label_values(<selector>, <label>): ${text}`);
        else {
          const err = await parseError(prom.url, substitute(m[1]));
          if (err) failures.push(`${d.uid} / variable $${v.name}: ${text}\n    → ${err}`);
        }
      }
    }
    assert.ok(count > 50, `only ${count} queries found`);
    assert.deepEqual(failures, [], `queries Prometheus cannot parse:\n${failures.join('\n')}`);
  });
});

describe('every query of the overview, service, edge-pipeline and collector dashboards returns data from the local stack', () => {
  let stack: LocalStack;

  before(async () => {
    stack = await LocalStack.start();
  }, { timeout: 150_000 });
  after(async () => {
    await stack?.stop();
  }, { timeout: 60_000 });

  test('after real traffic', { timeout: 180_000 }, async (t) => {
    const a = stack.url('service-a');
    const b = stack.url('service-b');
    const edge = stack.url('preprocessing-edge');
    const prometheus = stack.url('prometheus');
    const jaeger = stack.url('jaeger');
    const otlpMetrics = `http://${HOST}:${stack.summary.ports.collectorHttp}/v1/metrics`;
    const png = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toBuffer();
    const jpeg = await sharp({ create: { width: 500, height: 300, channels: 3, background: { r: 20, g: 120, b: 220 } } }).jpeg().toBuffer();

    // Meridian's services expose metrics for scraping; the collector's metric-point counters
    // only move when something pushes OTLP metrics, so the test pushes a gauge too.
    const otlpGauge = (): string =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'dashboards-test' } }] },
            scopeMetrics: [
              {
                metrics: [
                  { name: 'meridian_dashboards_test_probe', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }] } },
                ],
              },
            ],
          },
        ],
      });

    const call = async (url: string, init?: RequestInit): Promise<number> => {
      try {
        return (await request(url, init, 10_000)).status;
      } catch {
        return 0;
      }
    };
    const statuses = new Map<string, number[]>();
    const note = (what: string, s: number): void => {
      statuses.set(what, [...(statuses.get(what) ?? []), s]);
    };
    const round = async (i: number): Promise<void> => {
      const json = { 'content-type': 'application/json' };
      await Promise.all([
        ...['/', '/serverError', '/notFound', '/call-service-b', '/example', '/logs'].map(async (p) => note(`GET ${p}`, await call(a + p))),
        call(`${a}/hash`, { method: 'POST', headers: json, body: JSON.stringify({ data: `round ${i}`, iterations: 1 + (i % 5) }) }).then((s) => note('POST /hash', s)),
        call(`${b}/`).then((s) => note('GET service-b /', s)),
        call(`${edge}/preprocessing`, {
          method: 'POST',
          headers: { 'content-type': i % 2 ? 'image/jpeg' : 'image/png' },
          body: i % 2 ? jpeg : png,
        }).then((s) => note('POST /preprocessing', s)),
        call(otlpMetrics, { method: 'POST', headers: json, body: otlpGauge() }).then((s) => note('OTLP metrics', s)),
      ]);
    };

    let stopTraffic = false;
    const traffic = (async () => {
      for (let i = 0; !stopTraffic; i++) {
        await round(i);
        await delay(500);
      }
    })();

    const queries = loadDashboards()
      .filter(({ d }) => d.uid !== 'meridian-k6')
      .flatMap(({ d }) => promQueries(d));
    assert.ok(queries.length > 40, `only ${queries.length} queries`);
    const pending = new Map(queries.map((q) => [name(q), q]));
    const errors: string[] = [];
    const started = Date.now();
    // Scrapes every 5 s; rate() needs two samples of a series that grew, histogram_quantile a
    // bucket that did: data appears within a few scrapes of the first traffic.
    const deadline = started + 90_000;
    try {
      while (pending.size > 0 && Date.now() < deadline) {
        await delay(3_000);
        for (const [key, q] of pending) {
          const ans = await promQuery(prometheus, substitute(q.expr));
          if (ans.status !== 'success') {
            errors.push(`${key}\n    → ${ans.httpStatus} ${ans.errorType}: ${ans.error}`);
            pending.delete(key);
          } else if (hasData(ans)) pending.delete(key);
        }
      }
    } finally {
      stopTraffic = true;
      await traffic;
    }
    t.diagnostic(`${queries.length - pending.size - errors.length}/${queries.length} queries returned data within ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const seen = [...statuses].map(([k, v]) => `${k}: ${[...new Set(v)].join(',')}`).join('; ');
    const problems = [
      ...errors.map((e) => `failed to evaluate: ${e}`),
      ...[...pending.keys()].map((k) => `no data after 90 s of traffic: ${k}`),
    ];
    assert.deepEqual(problems, [], `${problems.length} dashboard queries without data (traffic statuses seen: ${seen}):\n${problems.join('\n')}`);

    // The $service variable's query lists the value the queries above were run with, and only the
    // services: the pipeline's own jobs (Prometheus, Jaeger, the collector) have no requests to show.
    const jobs = await request(`${prometheus}/api/v1/label/job/values?match[]=http_requests_total`);
    const listed = jobs.json?.data as string[];
    assert.ok(listed.includes(GRAFANA_VALUES.service), `label_values(http_requests_total, job): ${jobs.text}`);
    assert.ok(!listed.includes('prometheus') && !listed.includes('otel-collector'), `only services listed: ${jobs.text}`);

    // The Jaeger panel's search (service, limit) finds traces.
    const searches = loadDashboards().flatMap(({ d }) =>
      allPanels(d).flatMap((p) => (p.targets ?? []).filter((x) => x.datasource?.type === 'jaeger').map((x) => ({ panel: `${d.uid} / "${p.title}"`, x }))),
    );
    assert.ok(searches.length > 0, 'no Jaeger query found');
    for (const { panel, x } of searches) {
      assert.equal(x.queryType, 'search', panel);
      const res = await request(`${jaeger}/api/traces?service=${encodeURIComponent(x.service ?? '')}&limit=${x.limit ?? 20}&lookback=1h`);
      assert.ok(Array.isArray(res.json?.data) && res.json.data.length > 0, `${panel}: Jaeger search for ${x.service} found no trace: ${res.text.slice(0, 300)}`);
    }
  });
});
