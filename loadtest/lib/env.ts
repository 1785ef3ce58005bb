// Everything the scripts read from the environment, in one place (`k6 run -e NAME=value`, or the
// variables scripts/load.mjs passes). Defaults are the local stack's (`npm start`).

function url(name: string, fallback: string): string {
  const value = (__ENV[name] || fallback).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(value)) throw new Error(`${name} must be an http(s) URL (got "${value}")`);
  return value;
}

function positive(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return value;
}

export const SERVICE_A_URL = url('SERVICE_A_URL', 'http://127.0.0.1:8080');
export const EDGE_URL = url('EDGE_URL', 'http://127.0.0.1:5010');
export const PROFILE = __ENV.PROFILE || 'smoke';
/** Multiplies every stage's and scenario's duration: 0.1 turns a 2 h soak into 12 min. */
export const DURATION_SCALE = positive('LOAD_DURATION_SCALE', 1);
/**
 * Names this run: a metric tag (and so a Prometheus label) and a baggage entry on every request.
 * Fixed here rather than random, because every VU evaluates this file on its own.
 */
export const TESTID = __ENV.TESTID || `${PROFILE}-adhoc`;
/** Where handleSummary writes its JSON (relative to k6's working directory). */
export const SUMMARY_FILE = __ENV.SUMMARY_FILE || `loadtest/results/${PROFILE}-summary.json`;
