// What a client of service-a and of the edge sends. Each request is tagged with its `route` (the
// template, as in the services' own metrics), so thresholds and Prometheus series are per route.
// /serverError and /notFound answer 500 and 404 on purpose: those statuses are declared expected,
// so they do not count in http_req_failed, and a check asserts them. /crash is never sent: it stops
// the process, which is a fault to inject on purpose, not load.
import { check } from 'k6';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { EDGE_URL, SERVICE_A_URL } from './lib/env.ts';
import { traceHeaders } from './lib/trace.ts';

type Response = RefinedResponse<ResponseType | undefined>;

export interface Route {
  /** The `route` tag: the path template, as the service names it. */
  route: string;
  /** Share of the mix (relative). */
  weight: number;
  send(): void;
}

const PROBLEM_JSON = 'application/problem+json';
const isHexDigest = (r: Response) => /^[0-9a-f]{64}$/.test(String(jsonField(r, 'digest')));

function jsonField(r: Response, field: string): unknown {
  try {
    const body = r.json() as Record<string, unknown> | null;
    return body?.[field];
  } catch {
    return undefined;
  }
}

function contentType(r: Response): string {
  return String(r.headers['Content-Type'] ?? '');
}

/** One request, tagged, traced, with the statuses that count as success and what to check. */
function get(route: string, expected: number, extraChecks: Record<string, (r: Response) => boolean> = {}): void {
  const tags = { service: 'service-a', route };
  const res = http.get(`${SERVICE_A_URL}${route}`, {
    headers: traceHeaders().headers,
    tags,
    responseCallback: http.expectedStatuses(expected),
  });
  check(res, { [`${route} answers ${expected}`]: (r) => r.status === expected, ...prefixed(route, extraChecks) }, tags);
}

function prefixed(route: string, checks: Record<string, (r: Response) => boolean>): Record<string, (r: Response) => boolean> {
  return Object.fromEntries(Object.entries(checks).map(([name, fn]) => [`${route} ${name}`, fn]));
}

let hashCounter = 0;

/** POST /hash as JSON or as a form, with a different payload each time. */
export function postHash(body: 'json' | 'form'): void {
  const tags = { service: 'service-a', route: '/hash', body };
  const data = `meridian-loadtest-${__VU}-${__ITER}-${hashCounter++}`;
  const iterations = 1 + Math.floor(Math.random() * 2000);
  const payload = body === 'json' ? JSON.stringify({ data, iterations }) : `data=${encodeURIComponent(data)}&iterations=${iterations}`;
  const type = body === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
  const res = http.post(`${SERVICE_A_URL}/hash`, payload, {
    headers: traceHeaders({ 'content-type': type }).headers,
    tags,
    responseCallback: http.expectedStatuses(200),
  });
  check(
    res,
    {
      [`/hash (${body}) answers 200`]: (r) => r.status === 200,
      [`/hash (${body}) answers a sha256 digest`]: isHexDigest,
    },
    tags,
  );
}

export const SERVICE_A_ROUTES: Route[] = [
  { route: '/', weight: 8, send: () => get('/', 200, { 'names service-a': (r) => jsonField(r, 'service') === 'service-a' }) },
  { route: '/healthy', weight: 4, send: () => get('/healthy', 200) },
  { route: '/ready', weight: 4, send: () => get('/ready', 200) },
  { route: '/example', weight: 8, send: () => get('/example', 200) },
  { route: '/logs', weight: 5, send: () => get('/logs', 200) },
  { route: '/call-service-b', weight: 35, send: () => get('/call-service-b', 200, { 'relays service-b': (r) => jsonField(r, 'from') === 'service-b' }) },
  { route: '/hash', weight: 12, send: () => postHash('json') },
  { route: '/hash', weight: 6, send: () => postHash('form') },
  { route: '/serverError', weight: 3, send: () => get('/serverError', 500, { 'is problem+json': (r) => contentType(r).startsWith(PROBLEM_JSON) }) },
  { route: '/notFound', weight: 3, send: () => get('/notFound', 404, { 'is problem+json': (r) => contentType(r).startsWith(PROBLEM_JSON) }) },
];

/** The distinct `route` tags of service-a's mix (for thresholds). */
export const SERVICE_A_ROUTE_TAGS = [...new Set(SERVICE_A_ROUTES.map((r) => r.route))];

const totalWeight = SERVICE_A_ROUTES.reduce((sum, r) => sum + r.weight, 0);

/** One route, drawn by weight. */
export function pickRoute(): Route {
  let x = Math.random() * totalWeight;
  for (const r of SERVICE_A_ROUTES) {
    x -= r.weight;
    if (x < 0) return r;
  }
  return SERVICE_A_ROUTES[SERVICE_A_ROUTES.length - 1];
}

export interface Image {
  name: string;
  type: string;
  bytes: ArrayBuffer;
}

/** One image through the edge pipeline: decode, resize, normalise, ensemble inference. */
export function postImage(image: Image, via: 'raw' | 'multipart'): void {
  const route = '/preprocessing';
  const tags = { service: 'preprocessing-edge', route, format: image.type.split('/')[1], via };
  const { traceId, headers } = traceHeaders(via === 'raw' ? { 'content-type': image.type } : {});
  const body = via === 'raw' ? image.bytes : { image: http.file(image.bytes, image.name, image.type) };
  const res = http.post(`${EDGE_URL}${route}`, body, { headers, tags, responseCallback: http.expectedStatuses(200), timeout: '30s' });
  check(
    res,
    {
      [`${route} (${via}) answers 200`]: (r) => r.status === 200,
      [`${route} (${via}) answers the top 5 labels`]: (r) => (jsonField(r, 'top5') as unknown[] | undefined)?.length === 5,
      // The edge continues the client's trace, so the load's trace id is the one it reports.
      [`${route} (${via}) continues the client's trace`]: (r) => jsonField(r, 'traceId') === traceId,
    },
    tags,
  );
}
