#!/usr/bin/env node
// @ts-check
// `npm run trace -- <traceId>` or `npm run trace -- --service <name>`: one trace from Jaeger's HTTP
// query API (JAEGER_URL, default http://127.0.0.1:16686) printed as a waterfall in the terminal,
// with the trace's log lines from VictoriaLogs (LOGS_URL, default http://127.0.0.1:9428) below it.
// Plain Node, no dependencies. Exit codes: 0 ok, 1 Jaeger error / nothing found, 2 usage.

const HELP = `npm run trace -- <traceId> [options]
npm run trace -- --service <name> [--operation <op>] [--lookback 1h] [options]

  Prints one trace from Jaeger as a waterfall: a row per span in tree order with service,
  operation, start offset and duration (ms from the trace start), a bar on the trace's timeline,
  ✗ for failed spans, and http.route / status / meridian.site for root and server spans. Below it,
  the trace's log lines from the log store (LogsQL trace_id:<id>), each with its offset and span.

  <traceId>          1-32 hex characters
  --service NAME     the latest trace of this service instead (searches the last 20 traces)
  --operation OP     with --service: only traces of this operation
  --lookback DUR     with --service: how far back to search, e.g. 30m, 1h, 2d (default 1h)
  --json             print the normalized trace, spans and log lines as JSON
  --no-logs          leave out the log lines
  --width N          bar width in characters (default: what is left of the terminal, or of 100)
  --no-color         no ANSI colours (also NO_COLOR=1, or when stdout is not a terminal)
  --help

  JAEGER_URL         Jaeger query service (default http://127.0.0.1:16686)
  LOGS_URL           VictoriaLogs (default http://127.0.0.1:9428); unreachable, the lines are left out with a note
`;
const JAEGER = (process.env.JAEGER_URL || 'http://127.0.0.1:16686').replace(/\/+$/, '');
const LOGS = (process.env.LOGS_URL || 'http://127.0.0.1:9428').replace(/\/+$/, '');
const TIMEOUT_MS = 5000;

/** @param {string} msg @param {number} [code] @returns {never} */
function fail(msg, code = 1) {
  process.stderr.write(`trace: ${msg}\n`);
  process.exit(code);
}

// ---- arguments
/** @type {{ id?: string, service?: string, operation?: string, lookback: string, json: boolean, logs: boolean, width?: number, color: boolean }} */
const opts = { lookback: '1h', json: false, logs: true, color: !!process.stdout.isTTY && !process.env.NO_COLOR };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value\n\n${HELP}`, 2));
  if (a === '--help' || a === '-h') (process.stdout.write(HELP), process.exit(0));
  else if (a === '--json') opts.json = true;
  else if (a === '--no-color') opts.color = false;
  else if (a === '--no-logs') opts.logs = false;
  else if (a === '--service') opts.service = value();
  else if (a === '--operation') opts.operation = value();
  else if (a === '--lookback') opts.lookback = value();
  else if (a === '--width') {
    opts.width = Number(value());
    if (!Number.isInteger(opts.width) || opts.width < 1) fail(`--width must be a positive integer`, 2);
  } else if (a.startsWith('-') || opts.id) fail(`unexpected argument ${a}\n\n${HELP}`, 2);
  else opts.id = a;
}
if (!opts.id === !opts.service) fail(`give a trace id or --service <name>\n\n${HELP}`, 2);
if (opts.id && !/^[0-9a-fA-F]{1,32}$/.test(opts.id)) fail(`invalid trace id "${opts.id}": must be 1-32 hex characters`, 2);
if (opts.operation && !opts.service) fail('--operation needs --service', 2);

// ---- Jaeger
/** @param {string} path @returns {Promise<{ status: number, body: any }>} */
async function get(path) {
  try {
    const res = await fetch(JAEGER + path, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = { raw: text.slice(0, 200) }; }
    return { status: res.status, body };
  } catch (err) {
    const e = /** @type {any} */ (err);
    const reason = e?.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : e?.cause?.code || e?.cause?.message || e?.message;
    return fail(`cannot reach Jaeger at ${JAEGER}: ${reason}; is the stack running (npm start)?`);
  }
}

/** @param {{ status: number, body: any }} r */
const apiError = (r) =>
  r.body?.errors?.[0]?.msg
    ? `Jaeger at ${JAEGER} answered HTTP ${r.status}: ${r.body.errors[0].msg}`
    : `${JAEGER} answered HTTP ${r.status}${r.body?.raw ? ` ${r.body.raw}` : ''}; is JAEGER_URL Jaeger's query service (UI port)?`;

async function fetchTrace() {
  if (opts.id) {
    const r = await get(`/api/traces/${opts.id.toLowerCase()}`);
    const jaegerish = r.body && 'errors' in r.body; // a 404 from something else is not "not found"
    if ((r.status === 404 && jaegerish) || (r.status === 200 && !r.body?.data?.length)) fail(`trace ${opts.id} not found in Jaeger at ${JAEGER}`);
    if (r.status !== 200) fail(apiError(r));
    return r.body.data[0];
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(opts.lookback);
  if (!m) fail(`invalid --lookback "${opts.lookback}": use e.g. 30m, 1h, 2d`, 2);
  const us = { ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 }[m[2]] ?? 0;
  const end = Date.now() * 1000;
  // The API ignores `lookback` (a UI parameter), so the window is also sent as start/end in µs.
  const q = new URLSearchParams({ service: /** @type {string} */ (opts.service), limit: '20', lookback: opts.lookback, start: String(Math.floor(end - Number(m[1]) * us)), end: String(end) });
  if (opts.operation) q.set('operation', opts.operation);
  const r = await get(`/api/traces?${q}`);
  if (r.status !== 200) fail(apiError(r));
  /** @type {any[]} */ const traces = r.body?.data ?? [];
  const first = (/** @type {any} */ t) => Math.min(...t.spans.map((/** @type {any} */ s) => s.startTime));
  const latest = traces.filter((t) => t.spans?.length).sort((a, b) => first(b) - first(a))[0];
  if (!latest) fail(`no traces for service ${opts.service}${opts.operation ? ` operation ${opts.operation}` : ''} in the last ${opts.lookback} (Jaeger at ${JAEGER})`);
  return latest;
}

// ---- normalize: tree order, offsets in ms from the trace start
/** @param {any} trace */
function normalize(trace) {
  const start = Math.min(...trace.spans.map((/** @type {any} */ s) => s.startTime));
  const end = Math.max(...trace.spans.map((/** @type {any} */ s) => s.startTime + s.duration));
  const spans = trace.spans.map((/** @type {any} */ s) => {
    /** @type {Record<string, unknown>} */ const tags = Object.fromEntries((s.tags ?? []).map((/** @type {any} */ t) => [t.key, t.value]));
    const refs = (s.references ?? []).filter((/** @type {any} */ r) => r.traceID === s.traceID);
    const parent = refs.find((/** @type {any} */ r) => r.refType === 'CHILD_OF') ?? refs[0];
    const error = tags.error === true || tags.error === 'true' || tags['otel.status_code'] === 'ERROR';
    return {
      spanId: s.spanID, parentSpanId: parent?.spanID ?? null, service: trace.processes?.[s.processID]?.serviceName ?? '?',
      operation: s.operationName, kind: tags['span.kind'] ?? null, startTime: new Date(s.startTime / 1000).toISOString(),
      offsetMs: (s.startTime - start) / 1000, durationMs: s.duration / 1000, depth: 0, parentMissing: false,
      error, errorMessage: error ? String(tags['otel.status_description'] ?? tags['error.message'] ?? tags['exception.message'] ?? '') : null,
      tags,
    };
  });
  const byId = new Map(spans.map((/** @type {any} */ s) => [s.spanId, s]));
  /** @type {Map<string, any[]>} */ const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parentSpanId && byId.has(s.parentSpanId) && s.parentSpanId !== s.spanId) {
      children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
    } else {
      s.parentMissing = !!s.parentSpanId;
      roots.push(s);
    }
  }
  const byStart = (/** @type {any} */ a, /** @type {any} */ b) => a.offsetMs - b.offsetMs || b.durationMs - a.durationMs;
  /** @type {any[]} */ const ordered = [];
  const seen = new Set();
  const visit = (/** @type {any} */ s, /** @type {number} */ depth) => {
    if (seen.has(s.spanId)) return;
    seen.add(s.spanId);
    ordered.push(Object.assign(s, { depth }));
    for (const c of (children.get(s.spanId) ?? []).sort(byStart)) visit(c, depth + 1);
  };
  for (const r of roots.sort(byStart)) visit(r, 0);
  for (const s of spans.sort(byStart)) visit(s, 0); // spans only reachable through a parent cycle
  const services = [...new Set(ordered.map((s) => s.service))];
  return { traceId: trace.traceID, startTime: new Date(start / 1000).toISOString(), durationMs: (end - start) / 1000, spanCount: ordered.length, services, spans: ordered };
}

// ---- render
/** @param {ReturnType<typeof normalize>} t */
function render(t) {
  const PALETTE = [36, 35, 33, 32, 34, 91, 96, 95];
  /** @param {string} s @param {number | string} code */
  const paint = (s, code) => (opts.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  /** @param {string} svc */
  const svcColor = (svc) => PALETTE[t.services.indexOf(svc) % PALETTE.length];
  const ms = (/** @type {number} */ n) => n.toFixed(2);
  const labels = t.spans.map((s) => {
    const text = `${'  '.repeat(s.depth)}${s.service} ${s.operation}${s.parentMissing ? ' (parent missing)' : ''}`;
    return text.length > 70 ? text.slice(0, 69) + '…' : text;
  });
  const labelW = Math.max(...labels.map((l) => l.length));
  const numW = Math.max(7, ...t.spans.map((s) => ms(s.offsetMs + s.durationMs).length));
  const barW = opts.width ?? Math.max(20, (process.stdout.columns || 100) - labelW - 2 * numW - 6);
  const total = t.durationMs || 1;
  const out = [
    paint(`trace ${t.traceId}  ${ms(t.durationMs)} ms  ${t.spanCount} spans  ${t.services.length} services  started ${t.startTime}`, 1),
  ];
  t.spans.forEach((s, i) => {
    const from = Math.min(barW - 1, Math.floor((s.offsetMs / total) * barW));
    const to = Math.max(from + 1, Math.ceil(((s.offsetMs + s.durationMs) / total) * barW));
    const bar = paint('·'.repeat(from), 2) + paint('█'.repeat(to - from), s.error ? 31 : svcColor(s.service)) + paint('·'.repeat(Math.max(0, barW - to)), 2);
    const label = labels[i].padEnd(labelW);
    const svcAt = label.indexOf(s.service);
    const coloured = svcAt < 0 ? label : label.slice(0, svcAt) + paint(s.service, svcColor(s.service)) + label.slice(svcAt + s.service.length);
    let row = `${coloured} ${ms(s.offsetMs).padStart(numW)} ${ms(s.durationMs).padStart(numW)} │${bar}│`;
    if (s.error) row += ' ' + paint(`✗ ${s.errorMessage || 'error'}`, 31);
    if (s.depth === 0 || s.kind === 'server') {
      const route = s.tags['http.route'], status = s.tags['http.response.status_code'] ?? s.tags['http.status_code'], site = s.tags['meridian.site'];
      const attrs = [route && `route=${route}`, status && `status=${status}`, site && `site=${site}`].filter(Boolean).join(' ');
      if (attrs) row += ' ' + paint(attrs, 2);
    }
    out.push(row);
  });
  return out.join('\n') + '\n';
}

// ---- the trace's log lines (VictoriaLogs' LogsQL API, JSON lines out)
/**
 * @param {ReturnType<typeof normalize>} t
 * @returns {Promise<{ lines: { time: string, offsetMs: number, service: string, severity: string, message: string, spanId: string, operation: string | null }[], note?: string }>}
 */
async function fetchLogs(t) {
  // Lines are stamped within the trace's spans; a minute either side covers clock skew and late lines.
  const startMs = Date.parse(t.startTime);
  const body = new URLSearchParams({
    query: `trace_id:${t.traceId}`,
    start: new Date(startMs - 60_000).toISOString(),
    end: new Date(startMs + t.durationMs + 60_000).toISOString(),
    limit: '500',
  });
  let text;
  try {
    const res = await fetch(`${LOGS}/select/logsql/query`, { method: 'POST', body, signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await res.text();
    if (res.status !== 200) return { lines: [], note: `the log store at ${LOGS} answered HTTP ${res.status}: ${text.slice(0, 200)}` };
  } catch (err) {
    const e = /** @type {any} */ (err);
    return { lines: [], note: `no log lines: cannot reach the log store at ${LOGS} (${e?.cause?.code || e?.name || e?.message})` };
  }
  const bySpan = new Map(t.spans.map((s) => [s.spanId, s]));
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try { return [JSON.parse(l)]; } catch { return []; }
    })
    .map((/** @type {Record<string, string>} */ r) => ({
      time: r._time,
      offsetMs: Date.parse(r._time) - startMs,
      service: r['service.name'] ?? '?',
      severity: r.severity_text ?? r.severity ?? '',
      message: r._msg ?? '',
      spanId: r.span_id ?? '',
      operation: bySpan.get(r.span_id)?.operation ?? null,
    }))
    .sort((a, b) => a.offsetMs - b.offsetMs);
  return { lines };
}

/** @param {Awaited<ReturnType<typeof fetchLogs>>} logs */
function renderLogs(logs) {
  if (logs.note) return `\n${logs.note}\n`;
  if (logs.lines.length === 0) return `\nno log lines with this trace id in the log store (${LOGS})\n`;
  const dim = (/** @type {string} */ s) => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const svcW = Math.max(...logs.lines.map((l) => l.service.length));
  const rows = logs.lines.map(
    (l) => `${l.offsetMs.toFixed(0).padStart(7)} ms  ${l.service.padEnd(svcW)}  ${l.severity.padEnd(5)}  ${l.message}${l.operation ? dim(`  (span ${l.operation})`) : ''}`,
  );
  return `\n${logs.lines.length} log line${logs.lines.length === 1 ? '' : 's'} (VictoriaLogs, trace_id:<id>):\n${rows.join('\n')}\n`;
}

const trace = normalize(await fetchTrace());
const logs = opts.logs ? await fetchLogs(trace) : undefined;
if (opts.json) process.stdout.write(JSON.stringify({ ...trace, ...(logs ? { logs: logs.lines, ...(logs.note ? { logsNote: logs.note } : {}) } : {}) }, null, 2) + '\n');
else process.stdout.write(render(trace) + (logs ? renderLogs(logs) : ''));
