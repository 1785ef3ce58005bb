#!/usr/bin/env node
// @ts-check
// The Meridian console's server: serves the built web app (console/dist) and passes its reads to the
// real backends' APIs (Jaeger's query API, Prometheus' HTTP API, Alertmanager's API v2, VictoriaLogs'
// LogsQL), each call bounded by a timeout. Its only writes are fault switches, validated by the same
// code as `npm run fault` and written atomically to the flag file the services watch. Binds
// 127.0.0.1 unless CONSOLE_HOST says otherwise.
//
// CommonJS on purpose: a process whose entry point is an ES module starts Node's ESM loader, about
// 14 MiB more RSS for a server this small (faults.mjs is loaded with require, which does not).
const { existsSync, readFileSync, statSync } = require('node:fs');
const http = require('node:http');
const path = require('node:path');
/** @type {typeof import('../lib/faults.mjs')} */
const { applyFault, listFaults, readFlags, writeFlags } = require('../lib/faults.mjs');

const ROOT = path.resolve(__dirname, '../..');
const env = (/** @type {string} */ name, /** @type {string} */ fallback) => (process.env[name] || fallback).replace(/\/+$/, '');
const CONFIG = {
  host: process.env.CONSOLE_HOST || '127.0.0.1',
  port: Number(process.env.CONSOLE_PORT || 3030),
  jaeger: env('JAEGER_URL', 'http://127.0.0.1:16686'),
  prometheus: env('PROMETHEUS_URL', 'http://127.0.0.1:9090'),
  alertmanager: env('ALERTMANAGER_URL', 'http://127.0.0.1:9093'),
  logs: env('LOGS_URL', 'http://127.0.0.1:9428'),
  edge: env('EDGE_URL', 'http://127.0.0.1:5010'),
  // Where the browser sends its spans: the collector's OTLP/HTTP receiver (CORS allows this origin).
  collectorOtlpHttp: env('COLLECTOR_OTLP_HTTP_URL', 'http://127.0.0.1:4318'),
  flagsFile: process.env.FLAGS_FILE || path.join(ROOT, '.cache/local/flags.json'),
  webDir: path.resolve(process.env.CONSOLE_WEB_DIR || path.join(ROOT, 'console/dist')),
};
const READ_TIMEOUT_MS = 5_000;
const EDGE_TIMEOUT_MS = 30_000;
const MAX_JSON_BYTES = 4_096;
const MAX_IMAGE_BYTES = 2 * 1024 * 1024;

/** Which backend paths the console may read, per backend: a fixed list, nothing else is passed on. */
const READS = {
  jaeger: { base: CONFIG.jaeger, prefix: '/api/', allow: /^(services|services\/[\w.-]+\/operations|traces|traces\/[0-9a-f]{1,32})$/ },
  prometheus: { base: CONFIG.prometheus, prefix: '/api/v1/', allow: /^(query|query_range|rules|alerts|targets)$/ },
  alertmanager: { base: CONFIG.alertmanager, prefix: '/api/v2/', allow: /^(alerts|status)$/ },
};

/** @param {http.ServerResponse} res @param {number} status @param {string} type @param {string} title @param {string} detail */
function problem(res, status, type, title, detail) {
  res.writeHead(status, { 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ type: `urn:meridian:problem:${type}`, title, status, detail }));
}

/** @param {http.ServerResponse} res @param {unknown} body @param {number} [status] */
function json(res, body, status = 200) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The request body, at most `limit` bytes; undefined (and a 413 sent) past it. @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {number} limit */
function readBody(req, res, limit) {
  return new Promise((resolve) => {
    /** @type {Buffer[]} */ const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        if (!res.headersSent) {
          // Answered at once; the rest of the body is read and dropped, so the answer is not cut off.
          res.setHeader('connection', 'close');
          problem(res, 413, 'payload-too-large', 'Payload too large', `the body is limited to ${limit} bytes`);
          resolve(undefined);
        }
      } else chunks.push(c);
    });
    req.on('end', () => size <= limit && resolve(Buffer.concat(chunks)));
    req.on('error', () => resolve(undefined));
  });
}

/**
 * Passes a backend's answer on as it came (status, content type, body). An unreachable or silent
 * backend is a 502/504 problem naming it.
 * @param {http.ServerResponse} res @param {string} name @param {string} url @param {RequestInit} [init] @param {number} [timeoutMs]
 */
async function relay(res, name, url, init = {}, timeoutMs = READ_TIMEOUT_MS) {
  try {
    const upstream = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(body);
  } catch (err) {
    const e = /** @type {any} */ (err);
    if (e?.name === 'TimeoutError') problem(res, 504, 'upstream-timeout', `${name} did not answer`, `${name} gave no answer within ${timeoutMs / 1000} s`);
    else problem(res, 502, 'upstream-unavailable', `${name} is unreachable`, `${name} at ${new URL(url).origin}: ${e?.cause?.code ?? e?.message}`);
  }
}

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res @param {URL} url */
async function faults(req, res, url) {
  const m = /^\/api\/faults(?:\/([\w.-]+)\/([\w.-]+))?$/.exec(url.pathname);
  if (!m) return problem(res, 404, 'not-found', 'Not found', `no such path: ${url.pathname}`);
  if (!existsSync(CONFIG.flagsFile)) return problem(res, 503, 'no-flag-file', 'No flag file', `no flag file at ${CONFIG.flagsFile}`);
  if (!m[1]) {
    if (req.method !== 'GET') return problem(res, 405, 'method-not-allowed', 'Method not allowed', 'GET /api/faults lists them; PUT /api/faults/<service>/<fault> switches one');
    return json(res, { file: CONFIG.flagsFile, faults: listFaults(readFlags(CONFIG.flagsFile)) });
  }
  if (req.method !== 'PUT') return problem(res, 405, 'method-not-allowed', 'Method not allowed', 'switch a fault with PUT and {"state":"on"|"off","value"?:number}');
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return problem(res, 415, 'unsupported-media-type', 'Unsupported media type', 'send application/json');
  const raw = await readBody(req, res, MAX_JSON_BYTES);
  if (!raw) return;
  /** @type {any} */ let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return problem(res, 400, 'invalid-json', 'Invalid JSON', 'the body is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return problem(res, 400, 'invalid-body', 'Invalid body', 'expected {"state":"on"|"off","value"?:number}');
  const extra = Object.keys(body).filter((k) => k !== 'state' && k !== 'value');
  if (extra.length) return problem(res, 400, 'invalid-body', 'Invalid body', `unknown field(s): ${extra.join(', ')}`);
  // Validated on a fresh read, written only when valid: bad input leaves the file as it was.
  const doc = readFlags(CONFIG.flagsFile);
  const result = applyFault(doc, m[1], m[2], body.state, body.value);
  if (!result.ok) return problem(res, /^unknown (service|fault)/.test(result.error) ? 404 : 400, 'invalid-fault', 'Invalid fault switch', result.error);
  writeFlags(CONFIG.flagsFile, doc);
  return json(res, listFaults(doc).find((f) => f.key === result.key));
}

/** An image from the page, passed to the edge with the page's trace context: one trace from the click to the models. @param {http.IncomingMessage} req @param {http.ServerResponse} res */
async function tryEdge(req, res) {
  if (req.method !== 'POST') return problem(res, 405, 'method-not-allowed', 'Method not allowed', 'POST an image');
  const type = req.headers['content-type'] ?? '';
  if (!/^image\/(png|jpeg)$/.test(type)) return problem(res, 415, 'unsupported-media-type', 'Unsupported media type', 'send image/png or image/jpeg');
  const body = await readBody(req, res, MAX_IMAGE_BYTES);
  if (!body) return;
  /** @type {Record<string, string>} */ const headers = { 'content-type': type };
  for (const h of ['traceparent', 'tracestate', 'baggage']) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  await relay(res, 'preprocessing-edge', `${CONFIG.edge}/preprocessing`, { method: 'POST', headers, body }, EDGE_TIMEOUT_MS);
}

/** @param {string} id @param {http.ServerResponse} res */
async function traceById(id, res) {
  try {
    const upstream = await fetch(`${CONFIG.jaeger}/api/traces/${id}`, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
    if (upstream.status === 404) return json(res, { found: false });
    if (!upstream.ok) return problem(res, 502, 'upstream-error', 'Jaeger answered with an error', `Jaeger: HTTP ${upstream.status}`);
    const body = /** @type {{ data?: unknown[] }} */ (await upstream.json());
    return json(res, body.data?.length ? { found: true, trace: body.data[0] } : { found: false });
  } catch (err) {
    const e = /** @type {any} */ (err);
    return problem(res, 502, 'upstream-unavailable', 'Jaeger is unreachable', `Jaeger at ${CONFIG.jaeger}: ${e?.cause?.code ?? e?.message}`);
  }
}

/** VictoriaLogs' LogsQL query (JSON lines out). @param {URL} url @param {http.ServerResponse} res */
async function logs(url, res) {
  const query = url.searchParams.get('query') ?? '';
  if (!query.trim() || query.length > 2_000) return problem(res, 400, 'invalid-query', 'Invalid query', 'query must be a LogsQL query of 1 to 2000 characters');
  const limit = Number(url.searchParams.get('limit') ?? 500);
  if (!Number.isInteger(limit) || limit < 1 || limit > 5_000) return problem(res, 400, 'invalid-query', 'Invalid query', 'limit must be an integer from 1 to 5000');
  const form = new URLSearchParams({ query, limit: String(limit), start: url.searchParams.get('start') ?? '1h' });
  const end = url.searchParams.get('end');
  if (end) form.set('end', end);
  await relay(res, 'VictoriaLogs', `${CONFIG.logs}/select/logsql/query`, { method: 'POST', body: form });
}

const TYPES = /** @type {Record<string, string>} */ ({ '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon' });

/** @param {URL} url @param {http.ServerResponse} res */
function staticFile(url, res) {
  let rel;
  try {
    rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
  } catch {
    return problem(res, 400, 'invalid-path', 'Invalid path', 'the path is not valid percent-encoding');
  }
  const file = path.resolve(CONFIG.webDir, rel);
  if (!file.startsWith(CONFIG.webDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
    if (!existsSync(path.join(CONFIG.webDir, 'index.html'))) return problem(res, 503, 'not-built', 'The console is not built', `no ${CONFIG.webDir}/index.html: run npm run build`);
    return problem(res, 404, 'not-found', 'Not found', `no such file: ${url.pathname}`);
  }
  const connect = ["'self'", new URL(CONFIG.collectorOtlpHttp).origin].join(' ');
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'cache-control': rel === 'index.html' ? 'no-cache' : 'public, max-age=3600',
    'content-security-policy': `default-src 'self'; connect-src ${connect}; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'`,
    'x-content-type-options': 'nosniff',
  });
  res.end(readFileSync(file));
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://console.local');
    if (url.pathname === '/healthz') return json(res, { ok: true });
    if (url.pathname === '/api/config') return json(res, { collectorOtlpHttp: CONFIG.collectorOtlpHttp, flagsFile: CONFIG.flagsFile });
    if (url.pathname.startsWith('/api/faults')) return await faults(req, res, url);
    if (url.pathname === '/api/try/edge') return await tryEdge(req, res);
    if (url.pathname === '/api/logs') return await logs(url, res);
    // One trace by id, which may not have reached Jaeger yet: "not yet" is an answer, not an error.
    const byId = /^\/api\/trace\/([0-9a-f]{1,32})$/.exec(url.pathname);
    if (byId) return await traceById(byId[1], res);
    const read = /^\/api\/(jaeger|prometheus|alertmanager)\/(.+)$/.exec(url.pathname);
    if (read) {
      const backend = READS[/** @type {keyof typeof READS} */ (read[1])];
      if (req.method !== 'GET') return problem(res, 405, 'method-not-allowed', 'Method not allowed', 'the console only reads from the backends');
      if (!backend.allow.test(read[2])) return problem(res, 404, 'not-found', 'Not found', `${read[1]}: ${read[2]} is not an API the console reads`);
      return await relay(res, read[1], `${backend.base}${backend.prefix}${read[2]}${url.search}`);
    }
    if (url.pathname.startsWith('/api/')) return problem(res, 404, 'not-found', 'Not found', `no such API: ${url.pathname}`);
    // The alerts' runbooks (their runbook_url is docs/runbooks/<Alert>.md), as text.
    const runbook = /^\/runbooks\/([A-Za-z0-9-]+\.md)$/.exec(url.pathname);
    if (runbook) {
      const file = path.join(ROOT, 'docs/runbooks', runbook[1]);
      if (!existsSync(file)) return problem(res, 404, 'not-found', 'Not found', `no runbook ${runbook[1]}`);
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
      return res.end(readFileSync(file));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'method-not-allowed', 'Method not allowed', 'the pages are read with GET');
    return staticFile(url, res);
  } catch (err) {
    // A broken flag file or the like: a problem answer, never a crash.
    if (!res.headersSent) problem(res, 500, 'internal', 'Internal error', err instanceof Error ? err.message : String(err));
    else res.destroy();
  }
});
server.requestTimeout = 60_000;
server.listen(CONFIG.port, CONFIG.host, () => {
  process.stdout.write(`console on http://${CONFIG.host}:${CONFIG.port} (web app ${CONFIG.webDir})\n`);
});
for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections(); // a page's keep-alive connections would hold close() open
  });
}
