// k6 as a careless client (tests/clients/hostile-clients.test.ts runs it with the pinned k6):
// bodies the services refuse, sent whole without waiting, must be read as problem+json answers on
// a connection that stays usable. A failed check fails the `checks` threshold: k6 exits 99.
//   k6 run -e EDGE_URL=http://127.0.0.1:5010 -e SERVICE_A_URL=http://127.0.0.1:8080 tests/clients/refused-bodies.k6.js
import http from 'k6/http';
import { check } from 'k6';

export const options = {
  iterations: 3,
  vus: 1,
  thresholds: { checks: ['rate==1'] },
};

const MiB = 1024 * 1024;
const big = new ArrayBuffer(30 * MiB);
const json = JSON.stringify({ data: 'x'.repeat(4 * MiB) });
const problem = (res, status, type) =>
  check(res, {
    [`${status} ${type}`]: (r) => r.status === status,
    [`${type}: problem+json`]: (r) => (r.headers['Content-Type'] || '').includes('application/problem+json'),
    [`${type}: type in the body`]: (r) => r.status === status && r.json('type') === `urn:meridian:problem:${type}`,
  });

export default function () {
  problem(http.post(`${__ENV.EDGE_URL}/preprocessing`, big, { headers: { 'Content-Type': 'image/jpeg' } }), 413, 'payload-too-large');
  problem(http.post(`${__ENV.SERVICE_A_URL}/hash`, json, { headers: { 'Content-Type': 'application/json' } }), 413, 'payload-too-large');
  problem(
    http.post(`${__ENV.SERVICE_A_URL}/hash`, '{"data":"x"}', { headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' } }),
    415,
    'unsupported-content-encoding',
  );
  check(http.get(`${__ENV.SERVICE_A_URL}/healthy`), { 'healthy afterwards': (r) => r.status === 200 });
}
