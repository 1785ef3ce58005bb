import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import {
  type CommandResult,
  freePort,
  type Jaeger,
  type LogsStore,
  type OtlpSpanSpec,
  otlpTracesJson,
  queryLogs,
  REPO_ROOT,
  runCommand,
  startJaeger,
  startVictoriaLogs,
} from '@meridian/test-kit';

/**
 * `npm run trace` (scripts/trace.mjs) against the real Jaeger v2 binary on free loopback ports:
 * a trace of known shape goes in over OTLP/HTTP JSON, the waterfall must come out in tree order
 * with the offsets, durations, error and orphan markers that were sent; its log lines, put into a
 * real VictoriaLogs, must come out below it.
 */
const SCRIPT = path.join(REPO_ROOT, 'scripts/trace.mjs');
const MS = 1_000_000n; // ns

/** The log store the CLI reads (set in before(); a closed port until then). */
let logsUrl = 'http://127.0.0.1:9';

/** Runs the CLI with a bound; never throws on a non-zero exit. */
function run(args: string[], jaegerUrl: string, timeoutMs = 20_000, logs = logsUrl): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, JAEGER_URL: jaegerUrl, LOGS_URL: logs };
  delete env.NO_COLOR;
  return runCommand(process.execPath, [SCRIPT, ...args], { env, timeoutMs, graceMs: 0 });
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

interface SpanSpec {
  id: string;
  parent?: string;
  name: string;
  kind: number;
  from: number; // ms from the trace start
  to: number;
  attributes?: Record<string, string | number>;
  status?: { code: number; message?: string };
}

function otlpTrace(traceId: string, t0: bigint, services: Record<string, SpanSpec[]>) {
  const spans: Record<string, OtlpSpanSpec[]> = {};
  for (const [service, list] of Object.entries(services)) {
    spans[service] = list.map((s) => ({
      traceId,
      spanId: s.id,
      parentSpanId: s.parent,
      name: s.name,
      kind: s.kind,
      startNs: t0 + BigInt(s.from) * MS,
      endNs: t0 + BigInt(s.to) * MS,
      attributes: s.attributes,
      status: s.status,
    }));
  }
  return otlpTracesJson(spans, 'trace-cli-test');
}

describe('npm run trace against a real Jaeger v2 and VictoriaLogs', () => {
  let jaeger: Jaeger | undefined;
  let logsStore: LogsStore | undefined;
  let queryUrl = '';
  const SERVER = 2;
  const CLIENT = 3;
  const INTERNAL = 1;
  const traceId = hex(16);
  const oldTraceId = hex(16);
  const ids = { root: hex(8), client: hex(8), cloud: hex(8), onnx: hex(8), render: hex(8), orphan: hex(8), missing: hex(8) };

  before(async () => {
    // Healthy within 30 s, or fail with Jaeger's own output.
    jaeger = await startJaeger();
    queryUrl = jaeger.url;
    logsStore = await startVictoriaLogs();
    logsUrl = logsStore.url;

    // The trace under test (a second ago) and an older one of svc-edge (ten minutes ago).
    // Spans are sent out of order on purpose: the CLI must sort them.
    const t0 = BigInt(Date.now() - 2000) * MS;
    const body = otlpTrace(traceId, t0, {
      'svc-edge': [
        { id: ids.render, parent: ids.root, name: 'render', kind: INTERNAL, from: 75, to: 95 },
        { id: ids.orphan, parent: ids.missing, name: 'late-callback', kind: INTERNAL, from: 80, to: 90 },
        { id: ids.client, parent: ids.root, name: 'POST', kind: CLIENT, from: 10, to: 70 },
        {
          id: ids.root, name: 'GET /checkout', kind: SERVER, from: 0, to: 100,
          attributes: { 'http.route': '/checkout', 'http.response.status_code': 200, 'meridian.site': 'edge' },
        },
      ],
      'svc-cloud': [
        { id: ids.onnx, parent: ids.cloud, name: 'onnx run', kind: INTERNAL, from: 20, to: 50 },
        {
          id: ids.cloud, parent: ids.client, name: 'POST /infer', kind: SERVER, from: 15, to: 65,
          attributes: { 'http.route': '/infer', 'http.response.status_code': 500 },
          status: { code: 2, message: 'model exploded' },
        },
      ],
    });
    const older = otlpTrace(oldTraceId, t0 - 600_000n * MS, { 'svc-edge': [{ id: hex(8), name: 'GET /old', kind: SERVER, from: 0, to: 5 }] });
    for (const payload of [older, body]) {
      const res = await fetch(`http://127.0.0.1:${jaeger.ports.otlpHttp}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.status, 200, `OTLP POST: ${await res.text()}`);
    }

    // Stored (the batch processor flushes within about a second): bounded wait for all six spans.
    for (const until = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 200))) {
      const [a, b] = await Promise.all(
        [traceId, oldTraceId].map((id) =>
          fetch(`${queryUrl}/api/traces/${id}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.json() as Promise<{ data?: { spans: unknown[] }[] }>, () => undefined),
        ),
      );
      if (a?.data?.[0]?.spans.length === 6 && b?.data?.[0]?.spans.length === 1) break;
      assert.ok(Date.now() < until, `Jaeger did not return the traces within 15 s: ${JSON.stringify(a)} ${JSON.stringify(b)}`);
    }

    // Three log lines of the trace, out of order, and one of another trace, through VictoriaLogs'
    // JSON-lines API (the collector's OTLP path is tested in tests/observability).
    const at = (ms: number) => new Date(Number(t0 / MS) + ms).toISOString();
    const lines = [
      { _time: at(60), _msg: 'model exploded', severity_text: 'ERROR', trace_id: traceId, span_id: ids.cloud, 'service.name': 'svc-cloud' },
      { _time: at(5), _msg: 'checkout started', severity_text: 'INFO', trace_id: traceId, span_id: ids.root, 'service.name': 'svc-edge' },
      { _time: at(96), _msg: 'rendered', severity_text: 'INFO', trace_id: traceId, span_id: ids.render, 'service.name': 'svc-edge' },
      { _time: at(50), _msg: 'another trace', severity_text: 'INFO', trace_id: oldTraceId, span_id: hex(8), 'service.name': 'svc-edge' },
    ];
    const res = await fetch(`${logsUrl}/insert/jsonline?_stream_fields=service.name`, {
      method: 'POST',
      body: lines.map((l) => JSON.stringify(l)).join('\n'),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200, await res.text());
    for (const until = Date.now() + 15_000; (await queryLogs(logsUrl, `trace_id:${traceId}`)).length < 3; await new Promise((r) => setTimeout(r, 200))) {
      assert.ok(Date.now() < until, 'VictoriaLogs did not return the lines within 15 s');
    }
  });

  after(async () => {
    await jaeger?.stop();
    await logsStore?.stop();
  });

  test('the waterfall: header, tree order, indentation, offsets, durations, bars, markers', async () => {
    const r = await run([traceId, '--no-color', '--no-logs', '--width', '40'], queryUrl);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no ANSI colour with --no-color');
    const [header, ...lines] = r.stdout.trimEnd().split('\n');
    assert.ok(header.includes(traceId), header);
    assert.match(header, /\b6 spans\b/);
    assert.match(header, /\b2 services\b/);
    assert.match(header, /\b100\.00 ms\b/);

    const rows = lines.map((line) => {
      const m = /^( *)(\S+) (.+?) +(\d+\.\d\d) +(\d+\.\d\d) │([█·]+)│ ?(.*)$/.exec(line);
      assert.ok(m, `row format: ${JSON.stringify(line)}`);
      return { depth: m[1].length / 2, service: m[2], label: m[3], offset: Number(m[4]), duration: Number(m[5]), bar: m[6], rest: m[7] };
    });
    const expected = [
      { depth: 0, service: 'svc-edge', label: 'GET /checkout', from: 0, to: 100 },
      { depth: 1, service: 'svc-edge', label: 'POST', from: 10, to: 70 },
      { depth: 2, service: 'svc-cloud', label: 'POST /infer', from: 15, to: 65 },
      { depth: 3, service: 'svc-cloud', label: 'onnx run', from: 20, to: 50 },
      { depth: 1, service: 'svc-edge', label: 'render', from: 75, to: 95 },
      { depth: 0, service: 'svc-edge', label: 'late-callback (parent missing)', from: 80, to: 90 },
    ];
    assert.deepEqual(
      rows.map((x) => `${x.depth} ${x.service} ${x.label}`),
      expected.map((x) => `${x.depth} ${x.service} ${x.label}`),
      `tree order:\n${r.stdout}`,
    );
    rows.forEach((row, i) => {
      const e = expected[i];
      assert.ok(Math.abs(row.offset - e.from) <= 1, `${e.label} offset ${row.offset} vs ${e.from}`);
      assert.ok(Math.abs(row.duration - (e.to - e.from)) <= 1, `${e.label} duration ${row.duration} vs ${e.to - e.from}`);
      // The bar: 40 cells for 100 ms, filled over the span's extent.
      assert.equal(row.bar.length, 40, `${e.label} bar width`);
      assert.equal(row.bar.indexOf('█'), Math.floor((e.from / 100) * 40), `${e.label} bar start: ${row.bar}`);
      assert.equal(row.bar.lastIndexOf('█') + 1, Math.ceil((e.to / 100) * 40), `${e.label} bar end: ${row.bar}`);
    });
    assert.match(rows[2].rest, /✗ model exploded/, 'error span marked with its status message');
    assert.equal(rows.filter((x) => x.rest.includes('✗')).length, 1, 'only the error span is marked');
    assert.match(rows[0].rest, /route=\/checkout status=200 site=edge/, 'root span attributes');
    assert.match(rows[2].rest, /route=\/infer status=500/, 'server span attributes');
  });

  test("below the waterfall, the trace's log lines in time order, each with its offset, service and span", async () => {
    const r = await run([traceId, '--no-color', '--width', '40'], queryUrl);
    assert.equal(r.code, 0, r.stderr);
    const [, logs] = r.stdout.split('\n\n');
    assert.ok(logs, `a log section after the waterfall:\n${r.stdout}`);
    const [title, ...rows] = logs.trimEnd().split('\n');
    assert.match(title, /^3 log lines \(VictoriaLogs/);
    const parsed = rows.map((row) => {
      const m = /^ *(-?\d+) ms {2}(\S+) +(\S+) +(.+?)(?: {2}\(span (.+)\))?$/.exec(row);
      assert.ok(m, `log row format: ${JSON.stringify(row)}`);
      return { offset: Number(m[1]), service: m[2], severity: m[3], message: m[4], span: m[5] };
    });
    assert.deepEqual(parsed.map((l) => l.message), ['checkout started', 'model exploded', 'rendered'], 'time order, the other trace left out');
    assert.deepEqual(parsed.map((l) => l.span), ['GET /checkout', 'POST /infer', 'render']);
    assert.deepEqual(parsed.map((l) => l.service), ['svc-edge', 'svc-cloud', 'svc-edge']);
    assert.equal(parsed[1].severity, 'ERROR');
    parsed.forEach((l, i) => assert.ok(Math.abs(l.offset - [5, 60, 96][i]) <= 1, `${l.message} at ${l.offset} ms`));

    // Without a log store the waterfall still prints, with a note instead of the lines.
    const closed = await freePort();
    const without = await run([traceId, '--no-color'], queryUrl, 20_000, `http://127.0.0.1:${closed}`);
    assert.equal(without.code, 0, without.stderr);
    assert.match(without.stdout, /\b6 spans\b/);
    assert.match(without.stdout, new RegExp(`no log lines: cannot reach the log store at http://127\\.0\\.0\\.1:${closed}`));
  });

  test('--service finds the latest trace of the service; --operation narrows the search', async () => {
    const latest = await run(['--service', 'svc-edge', '--no-color'], queryUrl);
    assert.equal(latest.code, 0, latest.stderr);
    assert.ok(latest.stdout.split('\n')[0].includes(traceId), latest.stdout);
    const byOp = await run(['--service', 'svc-edge', '--operation', 'GET /old', '--no-color'], queryUrl);
    assert.equal(byOp.code, 0, byOp.stderr);
    assert.ok(byOp.stdout.split('\n')[0].includes(oldTraceId), byOp.stdout);
    const none = await run(['--service', 'svc-nobody'], queryUrl);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no traces for service svc-nobody/);
  });

  test('--json prints the normalized spans in tree order', async () => {
    const r = await run([traceId, '--json'], queryUrl);
    assert.equal(r.code, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.traceId, traceId);
    assert.equal(t.spanCount, 6);
    assert.deepEqual(t.services, ['svc-edge', 'svc-cloud']);
    assert.deepEqual(
      t.spans.map((s: { spanId: string }) => s.spanId),
      [ids.root, ids.client, ids.cloud, ids.onnx, ids.render, ids.orphan],
    );
    const orphan = t.spans[5];
    assert.equal(orphan.parentMissing, true);
    assert.equal(orphan.parentSpanId, ids.missing);
    assert.equal(t.spans[2].error, true);
    assert.equal(t.spans[2].errorMessage, 'model exploded');
    assert.equal(t.spans[3].depth, 3);
  });

  test('errors: unknown trace, malformed id, Jaeger unreachable or silent', async () => {
    const unknown = await run([hex(16)], queryUrl);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not found/);

    for (const bad of ['not-hex!', 'a'.repeat(33)]) {
      const r = await run([bad], queryUrl);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /invalid trace id/);
    }

    const closed = await freePort();
    const refused = await run([traceId], `http://127.0.0.1:${closed}`);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`cannot reach Jaeger at http://127\\.0\\.0\\.1:${closed}: .+; is the stack running \\(npm start\\)\\?`));
    assert.ok(refused.ms < 4000, `refused in ${refused.ms} ms`);

    // A server that accepts and never answers: the 5 s request timeout applies.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const hung = await run([traceId], `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`);
      assert.equal(hung.code, 1);
      assert.match(hung.stderr, /cannot reach Jaeger at .*no answer within 5 s/);
      assert.ok(hung.ms < 9000, `gave up after ${hung.ms} ms`);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });
});
