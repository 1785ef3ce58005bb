/**
 * The hand-written peer: service-a's `GET /` and `POST /hash` as a user would write them without
 * Meridian, following the usual tutorials: Express, prom-client (service-a's request metrics: same
 * names, types, labels, buckets and percentiles), pino-http (one JSON access log line per request
 * on stdout). Tracing, when wanted, is loaded before it: `node --require ./tracing.js server.js`.
 *   HOST=127.0.0.1 PORT=8090 node bench/dist/peer/server.js
 */
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import { collectDefaultMetrics, Counter, Histogram, register, Summary } from 'prom-client';

const HASH_MAX_DATA_LENGTH = 65_536;
const HASH_MAX_ITERATIONS = 100_000;

collectDefaultMetrics();
const labelNames = ['method', 'route', 'status_code'];
const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status code', labelNames });
const duration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request duration in seconds',
  labelNames,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});
const durationSummary = new Summary({
  name: 'http_request_duration_summary_seconds',
  help: 'HTTP request duration in seconds (quantiles over the last 10 minutes)',
  labelNames,
  percentiles: [0.5, 0.9, 0.95, 0.99],
  maxAgeSeconds: 600,
  ageBuckets: 5,
});

/** RFC 9457 problem details with service-a's `type` URNs and titles. */
function sendProblem(req: Request, res: Response, status: number, detail: string, extensions: Record<string, unknown> = {}, slug?: string): void {
  const text = STATUS_CODES[status] ?? 'Error';
  const body = {
    type: `urn:meridian:problem:${slug ?? text.toLowerCase().replaceAll(' ', '-')}`,
    title: text[0] + text.slice(1).toLowerCase(),
    status,
    detail,
    ...extensions,
    instance: req.path,
  };
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

interface FieldError {
  field: string;
  message: string;
}

/** POST /hash's body rules: `data` a string of at most 64 KiB, `iterations` an integer 1 to 100,000 (text in forms), nothing else. */
function validateHash(body: unknown): { data: string; iterations: number } | FieldError[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [{ field: '', message: 'the body must be an object' }];
  const { data, iterations, ...rest } = body as Record<string, unknown>;
  const errors: FieldError[] = Object.keys(rest).map((field) => ({ field, message: `property ${field} should not exist` }));
  if (typeof data !== 'string') errors.push({ field: 'data', message: 'data must be a string' });
  else if (data.length > HASH_MAX_DATA_LENGTH) errors.push({ field: 'data', message: `data must be shorter than or equal to ${HASH_MAX_DATA_LENGTH} characters` });
  const n = typeof iterations === 'string' && iterations.trim() !== '' ? Number(iterations) : (iterations ?? 1);
  if (typeof n !== 'number' || !Number.isInteger(n)) errors.push({ field: 'iterations', message: 'iterations must be an integer number' });
  else if (n < 1 || n > HASH_MAX_ITERATIONS) errors.push({ field: 'iterations', message: `iterations must be from 1 to ${HASH_MAX_ITERATIONS}` });
  return errors.length ? errors : { data: data as string, iterations: n as number };
}

const app = express();
const httpLogger = pinoHttp();
app.use(httpLogger);
app.use((req, res, next) => {
  const start = process.hrtime.bigint();
  res.on('finish', () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const labels = { method: req.method, route: req.route?.path ?? 'unmatched', status_code: String(res.statusCode) };
    requests.inc(labels);
    duration.observe(labels, seconds);
    durationSummary.observe(labels, seconds);
  });
  next();
});
app.use(express.json({ limit: '128kb' }));
app.use(express.urlencoded({ extended: false, limit: '128kb' }));

app.get('/', (_req, res) => {
  res.json({
    service: 'service-a',
    status: 'ok',
    links: {
      healthy: '/healthy',
      ready: '/ready',
      metrics: '/metrics',
      callServiceB: '/call-service-b',
      example: '/example',
      logs: '/logs',
      hash: 'POST /hash',
      serverError: '/serverError',
      notFound: '/notFound',
      crash: '/crash (disabled: set CRASH_ENABLED=true)',
    },
  });
});

app.post('/hash', (req, res) => {
  const accepted = ['application/json', 'application/x-www-form-urlencoded'];
  if (!req.is(accepted)) {
    const type = req.get('content-type')?.split(';')[0].trim();
    const detail = type ? `Content type ${type} is not accepted here; use ${accepted.join(' or ')}.` : `A body is required, as ${accepted.join(' or ')}.`;
    sendProblem(req, res, 415, detail, { accepted });
    return;
  }
  const body = validateHash(req.body);
  if (Array.isArray(body)) {
    sendProblem(req, res, 400, body.map((e) => e.message).join('; '), { errors: body }, 'validation-error');
    return;
  }
  let digest = createHash('sha256').update(body.data, 'utf8').digest();
  for (let i = 1; i < body.iterations; i++) digest = createHash('sha256').update(digest).digest();
  res.json({ algorithm: 'sha256', iterations: body.iterations, digest: digest.toString('hex') });
});

app.get('/healthy', (_req, res) => {
  res.json({ status: 'ok' });
});
app.get('/ready', (_req, res) => {
  res.json({ status: 'ok' });
});
app.get('/metrics', async (_req, res) => {
  res.set('content-type', register.contentType).send(await register.metrics());
});

app.use((req, res) => sendProblem(req, res, 404, `No route for ${req.method} ${req.path}.`));
// Body-parser's errors (bad JSON, too large, bad charset) carry their 4xx status; anything else is a 500 without internals.
app.use((err: { status?: number; message?: string }, req: Request, res: Response, _next: NextFunction) => {
  const status = err.status !== undefined && err.status >= 400 && err.status < 500 ? err.status : 500;
  if (status === 500) req.log.error({ err }, 'unhandled error');
  sendProblem(req, res, status, status === 500 ? 'The server could not complete the request.' : (err.message ?? ''), {}, status === 500 ? 'internal-error' : undefined);
});

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8090);
app.listen(port, host, (err) => {
  if (err) throw err;
  httpLogger.logger.info(`peer listening on http://${host}:${port}`);
});
