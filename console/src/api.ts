// The console reads the backends through its server (/api/...), which passes each call on to the
// real API: Jaeger's query API, Prometheus' HTTP API, Alertmanager's API v2, VictoriaLogs' LogsQL.

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly problem: Problem | undefined, text: string) {
    super(problem ? `${problem.title}: ${problem.detail}` : `HTTP ${status}: ${text.slice(0, 200)}`);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { ...init, signal: AbortSignal.timeout(35_000) });
  const text = await res.text();
  if (!res.ok) {
    let problem: Problem | undefined;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = undefined;
    }
    throw new ApiError(res.status, problem, text);
  }
  return (text ? JSON.parse(text) : undefined) as T;
}

// ---- Jaeger
export interface JaegerTag {
  key: string;
  type: string;
  value: string | number | boolean;
}
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  startTime: number; // µs
  duration: number; // µs
  tags: JaegerTag[];
  logs: { timestamp: number; fields: JaegerTag[] }[];
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: JaegerTag[] }>;
}

export const jaegerServices = () => call<{ data: string[] | null }>('/api/jaeger/services').then((r) => (r.data ?? []).sort());
export const jaegerOperations = (service: string) =>
  call<{ data: string[] | null }>(`/api/jaeger/services/${encodeURIComponent(service)}/operations`).then((r) => (r.data ?? []).sort());
/** One trace by id; undefined while it has not reached Jaeger yet. */
export const jaegerTrace = (id: string) => call<{ found: boolean; trace?: JaegerTrace }>(`/api/trace/${id}`).then((r) => (r.found ? r.trace : undefined));
export const jaegerSearch = (q: Record<string, string>) => call<{ data: JaegerTrace[] | null }>(`/api/jaeger/traces?${new URLSearchParams(q)}`).then((r) => r.data ?? []);

// ---- Prometheus
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}
export const promQuery = (query: string) =>
  call<{ data: { result: PromSample[] } }>(`/api/prometheus/query?${new URLSearchParams({ query })}`).then((r) => r.data.result);
export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}
export const promAlerts = () => call<{ data: { alerts: PromAlert[] } }>('/api/prometheus/alerts').then((r) => r.data.alerts);

// ---- Alertmanager
export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  status: { state: string };
  receivers: { name: string }[];
}
export const amAlerts = () => call<AmAlert[]>('/api/alertmanager/alerts');

// ---- VictoriaLogs
export type LogLine = Record<string, string>;
export async function logsQuery(query: string, start = '1h', limit = 500): Promise<LogLine[]> {
  const res = await fetch(`/api/logs?${new URLSearchParams({ query, start, limit: String(limit) })}`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, undefined, text);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as LogLine);
}

// ---- faults (the console server's validated write endpoint)
export interface Fault {
  key: string;
  service: string;
  fault: string;
  on: boolean;
  value: number | boolean;
  onValue: number | boolean;
  hint: string;
  symptom: string;
  alert: string | null;
  unsafe: boolean;
  takesValue: boolean;
  max: number | null;
}
export const listFaults = () => call<{ file: string; faults: Fault[] }>('/api/faults');
export const switchFault = (service: string, fault: string, state: 'on' | 'off', value?: number) =>
  call<Fault>(`/api/faults/${service}/${fault}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value === undefined ? { state } : { state, value }),
  });

/** A small image drawn in the page, sent to the edge through the console server: one trace from the click to the models. */
export async function sendImageToEdge(): Promise<{ traceId: string } & Record<string, unknown>> {
  const canvas = document.createElement('canvas');
  canvas.width = 224;
  canvas.height = 224;
  const g = canvas.getContext('2d')!;
  const hue = Math.floor(Math.random() * 360);
  g.fillStyle = `hsl(${hue} 60% 50%)`;
  g.fillRect(0, 0, 224, 224);
  g.fillStyle = `hsl(${(hue + 180) % 360} 60% 50%)`;
  g.beginPath();
  g.arc(112, 112, 60, 0, Math.PI * 2);
  g.fill();
  const blob = await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no image'))), 'image/png'));
  return call('/api/try/edge', { method: 'POST', headers: { 'content-type': 'image/png' }, body: blob });
}

export interface PromSeries {
  metric: Record<string, string>;
  values: [number, string][];
}
export const promRange = (query: string, start: number, end: number, step: number) =>
  call<{ data: { result: PromSeries[] } }>(`/api/prometheus/query_range?${new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) })}`).then(
    (r) => r.data.result,
  );
