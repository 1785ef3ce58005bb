// The Prometheus rules in observability/prometheus/rules and their unit tests in
// observability/prometheus/tests, checked by the real, pinned promtool (scripts/tools/install.sh;
// no mocks): `promtool check rules`, `promtool test rules`, the alert conventions (severity,
// summary, runbook), broken copies that must fail, and the collector metric names the collector
// rules rely on, read from a real collector.
//
// There is no YAML library in the workspace, so the rules and test files follow a line layout
// this file scans (one `- alert: Name` per rule, `alertname: Name` followed by `exp_alerts:`),
// and the scan is cross-checked against promtool's own rule count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { type Collector, otlpTracesJson, REPO_ROOT, runTool, startCollector } from '@meridian/test-kit';

const HOST = '127.0.0.1';

const rulesDir = join(REPO_ROOT, 'observability', 'prometheus', 'rules');
const testsDir = join(REPO_ROOT, 'observability', 'prometheus', 'tests');

const promtool = (args: string[], cwd?: string) => runTool('promtool', args, { cwd, timeoutMs: 120_000 });

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));

const ruleFiles = yamlFiles(rulesDir);
const testFiles = yamlFiles(testsDir);

// ---------------------------------------------------------------------------------------------
// Line-based reading of the rule files

interface AlertRule {
  name: string;
  file: string;
  line: number;
  /** The rule's own lines (from `- alert:` to the next rule). */
  text: string;
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

function readRules(file: string): { alerts: AlertRule[]; records: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const alerts: AlertRule[] = [];
  let records = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)- (alert|record):\s*(\S+)\s*$/.exec(lines[i]);
    if (!m) continue;
    if (m[2] === 'record') {
      records++;
      continue;
    }
    const indent = m[1].length;
    let end = i + 1;
    while (end < lines.length) {
      const l = lines[end];
      if (l.trim() !== '' && !l.trimStart().startsWith('#') && indentOf(l) <= indent) break;
      end++;
    }
    alerts.push({ name: m[3], file, line: i + 1, text: lines.slice(i, end).join('\n') });
  }
  return { alerts, records };
}

const rules = ruleFiles.map((file) => ({ file, ...readRules(file) }));
const alerts = rules.flatMap((r) => r.alerts);
const alertNames = [...new Set(alerts.map((a) => a.name))].sort();

/** A `key: value` of the rule (first match), quotes removed. */
function field(rule: AlertRule, key: string): string | undefined {
  const m = new RegExp(`^\\s*${key}:\\s*(.*)$`, 'm').exec(rule.text);
  if (!m) return undefined;
  return m[1].trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

// ---------------------------------------------------------------------------------------------
// Line-based reading of the promtool test files

interface Case {
  file: string;
  line: number;
  alertname: string;
  firing: boolean;
}

function readTestFile(file: string): { ruleFiles: string[]; cases: Case[] } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const ruleFilesOfTest: string[] = [];
  const cases: Case[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (/^rule_files:\s*$/.test(lines[i])) {
      for (let j = i + 1; j < lines.length && /^\s+- /.test(lines[j]); j++) {
        ruleFilesOfTest.push(resolve(dirname(file), lines[j].trim().slice(2).trim()));
      }
    }
    const m = /^\s*alertname:\s*(\S+)\s*$/.exec(lines[i]);
    if (!m) continue;
    // The next line must be `exp_alerts: []` (silent) or `exp_alerts:` followed by `- exp_labels:`.
    const next = lines[i + 1] ?? '';
    const where = `${basename(file)}:${i + 1}`;
    if (/^\s*exp_alerts:\s*\[\]\s*$/.test(next)) {
      cases.push({ file, line: i + 1, alertname: m[1], firing: false });
    } else if (/^\s*exp_alerts:\s*$/.test(next) && /^\s*- exp_labels:\s*$/.test(lines[i + 2] ?? '')) {
      cases.push({ file, line: i + 1, alertname: m[1], firing: true });
    } else {
      assert.fail(`${where}: after "alertname: ${m[1]}" expected "exp_alerts: []" or "exp_alerts:" + "- exp_labels:", got ${JSON.stringify(next)}`);
    }
  }
  return { ruleFiles: ruleFilesOfTest, cases };
}

// ---------------------------------------------------------------------------------------------

test('there are rule files and promtool test files', () => {
  assert.ok(ruleFiles.length > 0, `no rule files in ${rulesDir}`);
  assert.ok(testFiles.length > 0, `no promtool test files in ${testsDir}`);
  for (const expected of [
    'TargetDown',
    'ServiceRestarting',
    'HighCpu',
    'HighErrorRatio',
    'HighLatencyP95',
    'AvailabilityBurnRate',
    'CollectorRefusingTelemetry',
    'CollectorDroppingTelemetry',
    'EdgeIngressAuthFailures',
  ]) {
    assert.ok(alertNames.includes(expected), `alert ${expected} is missing from ${rulesDir}`);
  }
});

test('promtool check rules accepts every rule file, and counts the rules this test sees', async () => {
  for (const { file, alerts: fileAlerts, records } of rules) {
    const r = await promtool(['check', 'rules', file]);
    assert.equal(r.code, 0, `promtool check rules ${file} failed:\n${r.output}`);
    const m = /SUCCESS: (\d+) rules found/.exec(r.output);
    assert.ok(m, `unexpected promtool output:\n${r.output}`);
    assert.equal(
      Number(m[1]),
      fileAlerts.length + records,
      `${basename(file)}: promtool found ${m[1]} rules, the line scan ${fileAlerts.length} alerts + ${records} records; keep one "- alert:"/"- record:" per line`,
    );
  }
});

test('promtool test rules passes on every test file', async () => {
  for (const file of testFiles) {
    const r = await promtool(['test', 'rules', basename(file)], dirname(file));
    assert.equal(r.code, 0, `promtool test rules ${file} failed:\n${r.output}`);
    assert.match(r.output, /SUCCESS/);
  }
});

test('every alert has a firing case and a silent case in a test file that loads its rules', () => {
  const parsed = testFiles.map(readTestFile);
  const missing: string[] = [];
  for (const name of alertNames) {
    const ruleFilesOfAlert = new Set(alerts.filter((a) => a.name === name).map((a) => a.file));
    const cases = parsed.flatMap((p) => (p.ruleFiles.some((f) => ruleFilesOfAlert.has(f)) ? p.cases : [])).filter((c) => c.alertname === name);
    if (!cases.some((c) => c.firing)) missing.push(`${name}: no case where it fires (exp_alerts with entries)`);
    if (!cases.some((c) => !c.firing)) missing.push(`${name}: no case where it stays silent (exp_alerts: [])`);
  }
  assert.deepEqual(missing, []);
  // And no test names an alert that does not exist (a typo would test nothing).
  const unknown = parsed.flatMap((p) => p.cases).filter((c) => !alertNames.includes(c.alertname));
  assert.deepEqual(unknown.map((c) => `${basename(c.file)}:${c.line} ${c.alertname}`), []);
});

test('every alert has a severity, a summary naming the job, a description and an existing runbook', () => {
  for (const rule of alerts) {
    const where = `${basename(rule.file)}:${rule.line} ${rule.name}`;
    assert.match(field(rule, 'severity') ?? '', /^(critical|warning|info)$/, `${where}: labels.severity must be critical, warning or info`);
    const summary = field(rule, 'summary');
    assert.ok(summary, `${where}: no annotations.summary`);
    assert.match(summary, /\{\{ \$labels\.job \}\}/, `${where}: the summary must name the job ({{ $labels.job }})`);
    assert.ok(field(rule, 'description'), `${where}: no annotations.description`);
    const runbook = field(rule, 'runbook_url');
    assert.equal(runbook, `docs/runbooks/${rule.name}.md`, `${where}: runbook_url must be docs/runbooks/${rule.name}.md`);
    const path = join(REPO_ROOT, runbook);
    assert.ok(existsSync(path), `${where}: runbook ${runbook} does not exist`);
    assert.match(readFileSync(path, 'utf8'), new RegExp(`^# ${rule.name}\\b`, 'm'), `${runbook} must start with a "# ${rule.name}" heading`);
  }
});

/**
 * Runs `fn` on a copy of the rules and tests folders (tests load ../rules/...) in which `rule`'s
 * `from` is replaced by `to`, to break it on purpose.
 */
async function withBrokenRule(rule: string, from: string, to: string, what: string, fn: (dir: string, file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-promtool-'));
  try {
    cpSync(rulesDir, join(dir, 'rules'), { recursive: true });
    cpSync(testsDir, join(dir, 'tests'), { recursive: true });
    const file = join(dir, 'rules', rule);
    const original = readFileSync(file, 'utf8');
    const broken = original.replace(from, to);
    assert.notEqual(broken, original, `the ${what} expression changed: update this test`);
    writeFileSync(file, broken);
    await fn(dir, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('promtool check rules rejects a copy with invalid PromQL', () =>
  withBrokenRule('availability.rules.yml', 'expr: up == 0', 'expr: sum by (job (up) == 0', 'TargetDown', async (_dir, file) => {
    const r = await promtool(['check', 'rules', file]);
    assert.notEqual(r.code, 0, `promtool accepted invalid PromQL:\n${r.output}`);
    assert.match(r.output, /parse error|unexpected/i);
  }));

test('promtool test rules fails when a threshold is changed (the unit tests have teeth)', () =>
  withBrokenRule('http.rules.yml', 'job:http_requests:error_ratio_rate1m > 0.05', 'job:http_requests:error_ratio_rate1m > 0.5', 'HighErrorRatio', async (dir) => {
    const r = await promtool(['test', 'rules', 'http.test.yml'], join(dir, 'tests'));
    assert.notEqual(r.code, 0, `promtool test rules passed with a 50% threshold:\n${r.output}`);
    assert.match(r.output, /alertname: HighErrorRatio/);
  }));

// ---------------------------------------------------------------------------------------------
// The collector metric names, read from the real collector with the repo's config

// Nothing listens on the Jaeger endpoint (startCollector's default): spans wait in the exporter queue.
const env = { EDGE_OTLP_TOKEN: 'right-token' };

const otlp = {
  '/v1/traces': otlpTracesJson({
    'alerts-probe': [
      {
        traceId: '5b8efff798038103d269b633813fc60c',
        spanId: 'eee19b7ec3c1b174',
        name: 'GET /probe',
        kind: 2,
        startNs: 1700000000000000000n,
        endNs: 1700000000020000000n,
      },
    ],
  }),
  '/v1/metrics': {
    resourceMetrics: [
      {
        scopeMetrics: [{ metrics: [{ name: 'probe_gauge', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: '1700000000000000000' }] } }] }],
      },
    ],
  },
  '/v1/logs': { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000000000000', body: { stringValue: 'probe' } }] }] }] },
};

async function post(port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://${HOST}:${port}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  await res.text();
  return res.status;
}

/** The collector's telemetry as `name{labels}` -> value (last one wins). */
async function scrape(c: Collector): Promise<Map<string, number>> {
  const body = await (await fetch(`http://${HOST}:${c.ports.telemetry}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const samples = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const sum = (samples: Map<string, number>, name: string, labels: RegExp = /.*/): number | undefined => {
  let total: number | undefined;
  for (const [key, value] of samples) {
    const brace = key.indexOf('{');
    const n = brace === -1 ? key : key.slice(0, brace);
    if (n === name && labels.test(key)) total = (total ?? 0) + value;
  }
  return total;
};

/** Every otelcol_* name the collector rules query. */
function collectorRuleMetricNames(): string[] {
  const text = readFileSync(join(rulesDir, 'collector.rules.yml'), 'utf8')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  // (not the recording rules' names, e.g. exporter:otelcol_exporter_dropped_items:rate5m)
  return [...new Set(text.match(/(?<![:\w])otelcol_[a-z_]+\b(?!:)/g) ?? [])].sort();
}

test('the collector metrics the rules use exist with these names on the real collector (memory_limiter refusing)', { timeout: 60_000 }, async () => {
  // A 2 MiB limit (through the config's own variables) makes memory_limiter refuse everything:
  // the receivers' refused counters move, as in a real overload.
  const c = await startCollector({ ...env, COLLECTOR_MEMORY_LIMIT_MIB: '2', COLLECTOR_MEMORY_SPIKE_LIMIT_MIB: '1' });
  try {
    for (const [path, body] of Object.entries(otlp)) {
      // 503 "data refused due to high memory usage"; the memory_limiter may need a check to kick in
      let status = 0;
      for (let i = 0; i < 20 && status !== 503; i++) {
        status = await post(c.ports.http, path, body);
        if (status !== 503) await delay(250);
      }
      assert.equal(status, 503, `${path} was not refused under a 2 MiB memory limit:\n${c.output()}`);
    }
    const samples = await scrape(c);
    for (const name of ['otelcol_receiver_refused_spans', 'otelcol_receiver_refused_metric_points', 'otelcol_receiver_refused_log_records']) {
      const value = sum(samples, name, /receiver="otlp"/);
      assert.ok(value !== undefined && value > 0, `${name}{receiver="otlp"} is not > 0 on the collector (got ${value})`);
    }
    for (const name of ['otelcol_exporter_queue_size', 'otelcol_exporter_queue_capacity', 'otelcol_process_cpu_seconds']) {
      assert.notEqual(sum(samples, name), undefined, `${name} is not exposed by the collector`);
    }
    // Counters carry no _total suffix in this release: a rule written with _total would never match.
    const names = new Set([...samples.keys()].map((k) => k.split('{')[0]));
    const withTotal = [...names].filter((n) => n.startsWith('otelcol_') && n.endsWith('_total'));
    assert.deepEqual(withTotal, [], 'the collector now exposes otelcol_*_total names: update collector.rules.yml and its tests');
    // Names the rules use but that only appear after failures (send_failed, enqueue_failed) must
    // at least follow the same pattern as the ones seen here.
    for (const name of collectorRuleMetricNames()) {
      assert.match(name, /^otelcol_(receiver_refused|exporter_send_failed|exporter_enqueue_failed)_(spans|metric_points|log_records)$|^otelcol_exporter_queue_(size|capacity)$|^otelcol_process_cpu_seconds$/, `unexpected collector metric in the rules: ${name}`);
    }
  } finally {
    await c.stop();
  }
});

// EdgeIngressAuthFailures reads http_server_request_duration_count{http_response_status_code="401"}
// from the collector's own telemetry, which the collector only exposes at telemetry metrics level
// `detailed` (the bearertokenauth check runs before the receiver, so otelcol_receiver_refused_* stays 0).
test(
  'a wrong edge token shows up in the metric EdgeIngressAuthFailures uses',
  { timeout: 60_000 },
  async () => {
    const c = await startCollector(env);
    try {
      assert.equal(await post(c.ports.edge, '/v1/traces', otlp['/v1/traces'], { authorization: 'Bearer wrong' }), 401);
      assert.equal(await post(c.ports.edge, '/v1/traces', otlp['/v1/traces']), 401);
      const samples = await scrape(c);
      const rejected = sum(samples, 'http_server_request_duration_count', new RegExp(`http_response_status_code="401".*server_port="${c.ports.edge}"|server_port="${c.ports.edge}".*http_response_status_code="401"`));
      assert.equal(rejected, 2, `no http_server_request_duration_count{http_response_status_code="401",server_port="${c.ports.edge}"} = 2 on the collector`);
      // and the receiver's own counters do not see them
      assert.ok(!sum(samples, 'otelcol_receiver_refused_spans', /receiver="otlp\/edge"/));
    } finally {
      await c.stop();
    }
  },
);
