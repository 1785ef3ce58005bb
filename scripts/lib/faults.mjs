// @ts-check
// The injected faults of the flag file the services watch (flagd format, observability/flags/):
// what each one does, the alert it should fire, and the one validated way to change it, used by
// `npm run fault` and by the console's write endpoint alike.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * @typedef {{ hint: string, symptom: string, alert: string | null, unsafe?: boolean, takesValue: boolean, max?: number }} FaultInfo
 * @typedef {{ state: string, variants: Record<string, number | boolean>, defaultVariant: string }} Flag
 * @typedef {{ flags: Record<string, Flag>, [k: string]: unknown }} FlagDoc
 */

/** @type {Record<string, FaultInfo>} */
export const FAULTS = {
  'latency-ms': {
    hint: 'added delay in ms',
    symptom: 'the p95 of http_request_duration_seconds rises by the delay',
    alert: 'HighLatencyP95',
    takesValue: true,
    max: 60_000,
  },
  'latency-share': {
    hint: 'share (0..1) of requests delayed; off = all',
    symptom: 'only that share of requests is slow (with latency-ms on)',
    alert: 'HighLatencyP95',
    takesValue: true,
    max: 1,
  },
  'error-share': {
    hint: 'share (0..1) of requests answered 500',
    symptom: 'that share of requests answers 500; http_requests_total{status_code="500"} grows',
    alert: 'HighErrorRatio',
    takesValue: true,
    max: 1,
  },
  crash: {
    hint: 'the process exits (and is restarted)',
    symptom: 'the process exits on its next request and is restarted; process_start_time_seconds changes',
    alert: 'ServiceRestarting',
    unsafe: true,
    takesValue: false,
  },
  'cpu-hog': {
    hint: 'share (0..0.95) of a core burnt',
    symptom: 'process_cpu_seconds_total grows by that share of a core',
    alert: 'HighCpu',
    unsafe: true,
    takesValue: true,
    max: 0.95,
  },
  'memory-growth': {
    hint: 'MiB per second retained',
    symptom: 'process_resident_memory_bytes grows by that many MiB a second (in a cluster, until the pod is OOM-killed: ServiceRestarting)',
    alert: null,
    unsafe: true,
    takesValue: true,
    max: 1024,
  },
  'downstream-unreachable': {
    hint: 'outbound calls fail as unreachable',
    symptom: 'its outbound calls fail; it answers 502/503 and its client spans end in error',
    alert: 'HighErrorRatio',
    takesValue: false,
  },
  'readiness-fail': {
    hint: '/ready answers 503',
    symptom: '/ready answers 503 (in a cluster the pod leaves its Service); the routes still answer',
    alert: null,
    takesValue: false,
  },
};

/** Other names `npm run fault` accepts. */
export const ALIASES = /** @type {Record<string, string>} */ ({ latency: 'latency-ms', error: 'error-share', errors: 'error-share', share: 'latency-share' });

/** @param {Flag} f */
export const isOn = (f) => f.state === 'ENABLED' && f.defaultVariant === 'on';

/** @param {string} file @returns {FlagDoc} throws with a readable message */
export function readFlags(file) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  if (!doc || typeof doc.flags !== 'object' || doc.flags === null) throw new Error(`${file} has no "flags" object`);
  return doc;
}

/** Written next to the file and renamed over it, so a service never reads half a file. @param {string} file @param {FlagDoc} doc */
export function writeFlags(file, doc) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc, null, 2) + '\n');
  renameSync(tmp, file);
}

/** @param {FlagDoc} doc */
export const servicesOf = (doc) => [...new Set(Object.keys(doc.flags).map((k) => k.slice(0, k.indexOf('.'))))].sort();

/** Every fault of the file, with its state and what it does. @param {FlagDoc} doc */
export function listFaults(doc) {
  return Object.entries(doc.flags)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, f]) => {
      const dot = key.indexOf('.');
      const fault = key.slice(dot + 1);
      const info = FAULTS[fault];
      return {
        key,
        service: key.slice(0, dot),
        fault,
        on: isOn(f),
        value: f.variants[f.state === 'ENABLED' ? f.defaultVariant : 'off'],
        onValue: f.variants.on,
        hint: info?.hint ?? fault,
        symptom: info?.symptom ?? '',
        alert: info?.alert ?? null,
        unsafe: info?.unsafe ?? false,
        takesValue: info?.takesValue ?? typeof f.variants.on === 'number',
        max: info?.max ?? null,
      };
    });
}

/**
 * Switches one fault in `doc` (not on disk). Returns an error message for input that is not a
 * known service, fault, state or value, and then leaves `doc` as it was.
 * @param {FlagDoc} doc @param {string} service @param {string} rawFault @param {unknown} state @param {unknown} [rawValue]
 * @returns {{ ok: true, key: string, flag: Flag } | { ok: false, error: string }}
 */
export function applyFault(doc, service, rawFault, state, rawValue) {
  const services = servicesOf(doc);
  if (typeof service !== 'string' || !services.includes(service)) return { ok: false, error: `unknown service ${JSON.stringify(service)}; one of ${services.join(', ')}` };
  const fault = ALIASES[rawFault] ?? rawFault;
  const key = `${service}.${fault}`;
  const flag = doc.flags[key];
  if (!flag) return { ok: false, error: `unknown fault ${JSON.stringify(rawFault)}; one of ${Object.keys(FAULTS).join(', ')}` };
  if (state !== 'on' && state !== 'off') return { ok: false, error: `state must be on or off (got ${JSON.stringify(state)})` };
  let value;
  if (state === 'on' && rawValue !== undefined && rawValue !== null) {
    if (typeof flag.variants.off === 'boolean') return { ok: false, error: `${fault} is on or off; it takes no value` };
    const n = typeof rawValue === 'number' ? rawValue : typeof rawValue === 'string' && rawValue.trim() !== '' ? Number(rawValue) : NaN;
    const max = FAULTS[fault]?.max;
    if (!Number.isFinite(n) || n < 0) return { ok: false, error: `value must be a number >= 0 (got ${JSON.stringify(rawValue)})` };
    if (max !== undefined && n > max) return { ok: false, error: `value for ${fault} must be at most ${max} (got ${n})` };
    value = n;
  }
  if (state === 'on') {
    if (value !== undefined) flag.variants.on = value;
    flag.state = 'ENABLED';
    flag.defaultVariant = 'on';
  } else {
    flag.defaultVariant = 'off';
  }
  return { ok: true, key, flag };
}
