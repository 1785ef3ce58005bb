// Pass/fail criteria from the service-level objectives: fewer than 1% of requests fail (the
// availability SLO's error budget, 99%), more than 99% of checks pass, and a p95 latency target per
// route. A run that misses any of them makes k6 exit 99.
import type { Threshold } from 'k6/options';
import type { Profile } from './profiles.ts';
import { SERVICE_A_ROUTE_TAGS } from './routes.ts';

/** p95 target per `route` tag, in milliseconds, for the local stack. */
export const P95_MS: Record<string, number> = {
  '/': 200,
  '/healthy': 100,
  '/ready': 200,
  '/logs': 200,
  // The route is an async task of 0 to EXAMPLE_MAX_MS (1 s) on purpose.
  '/example': 1100,
  '/call-service-b': 300,
  '/hash': 300,
  '/serverError': 200,
  '/notFound': 200,
  // Decode + resize + two CNNs on CPU.
  '/preprocessing': 1500,
};

export function thresholdsFor(p: Profile): Record<string, Threshold[]> {
  const routes = new Set<string>();
  for (const s of Object.values(p.scenarios)) {
    if (s.exec === 'serviceA') SERVICE_A_ROUTE_TAGS.forEach((r) => routes.add(r));
    if (s.exec === 'hash') routes.add('/hash');
    if (s.exec === 'edge') routes.add('/preprocessing');
  }
  const thresholds: Record<string, Threshold[]> = {
    // Expected statuses (the 500 of /serverError, the 404 of /notFound) are not failures.
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  };
  for (const route of routes) {
    const target = P95_MS[route];
    if (target === undefined) throw new Error(`no p95 target for route ${route}`);
    thresholds[`http_req_duration{route:${route}}`] = [`p(95)<${target}`];
  }
  return thresholds;
}
