import { useState } from 'preact/hooks';
import { promQuery } from './api';
import { usePoll } from './route';

interface Stats {
  rate: number;
  errors: number;
}

interface Edge {
  parent: string;
  child: string;
  rate: number;
  errors: number;
}

const SERVER = 'traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER"';
// Client spans name the service they call (server.service.name, set by service-kit's HttpClient).
const CLIENT = 'traces_span_metrics_calls_total{span_kind="SPAN_KIND_CLIENT",server_service_name!=""';
const ERROR = ',status_code="STATUS_CODE_ERROR"';

/**
 * Services and the calls between them, all from the span metrics (the collector's spanmetrics
 * connector, in Prometheus), over the last 5 minutes: each service's request and error rates from
 * its server spans, each call's from the caller's client spans.
 */
// Rates of a quiet demo are often below 0.1/s: a third decimal keeps them from reading as 0.
function perSecond(rate: number): string {
  return rate.toFixed(rate < 0.1 ? 3 : 2);
}

export function ServiceGraph() {
  const [stats, setStats] = useState<Record<string, Stats>>({});
  const [edges, setEdges] = useState<Edge[]>([]);
  const [error, setError] = useState('');
  usePoll(async () => {
    try {
      const [calls, errors, edgeCalls, edgeErrors] = await Promise.all([
        promQuery(`sum by (service_name) (rate(${SERVER}}[5m]))`),
        promQuery(`sum by (service_name) (rate(${SERVER}${ERROR}}[5m]))`),
        promQuery(`sum by (service_name, server_service_name) (rate(${CLIENT}}[5m]))`),
        promQuery(`sum by (service_name, server_service_name) (rate(${CLIENT}${ERROR}}[5m]))`),
      ]);
      const s: Record<string, Stats> = {};
      for (const r of calls) s[r.metric.service_name] = { rate: Number(r.value[1]), errors: 0 };
      for (const r of errors) (s[r.metric.service_name] ??= { rate: 0, errors: 0 }).errors = Number(r.value[1]);
      const key = (m: Record<string, string>) => `${m.service_name}\u0000${m.server_service_name}`;
      const failed = new Map(edgeErrors.map((r) => [key(r.metric), Number(r.value[1])]));
      setStats(s);
      setEdges(
        edgeCalls.map((r) => ({
          parent: r.metric.service_name,
          child: r.metric.server_service_name,
          rate: Number(r.value[1]),
          errors: failed.get(key(r.metric)) ?? 0,
        })),
      );
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, 5000);

  // Columns by call depth from the services nobody calls.
  const names = [...new Set([...Object.keys(stats), ...edges.flatMap((e) => [e.parent, e.child])])].sort();
  const depth: Record<string, number> = {};
  const called = new Set(edges.map((e) => e.child));
  const queue: [string, number][] = names.filter((n) => !called.has(n)).map((n) => [n, 0]);
  while (queue.length) {
    const [n, d] = queue.shift()!;
    if (depth[n] !== undefined && depth[n] >= d) continue;
    depth[n] = d;
    if (d < names.length) for (const e of edges.filter((x) => x.parent === n)) queue.push([e.child, d + 1]);
  }
  for (const n of names) depth[n] ??= 0;
  const columns: string[][] = [];
  for (const n of names) (columns[depth[n]] ??= []).push(n);
  const W = 220, H = 70, GX = 140, GY = 30;
  const pos: Record<string, { x: number; y: number }> = {};
  columns.forEach((col, i) => col.forEach((n, j) => (pos[n] = { x: 20 + i * (W + GX), y: 20 + j * (H + GY) })));
  const width = 40 + columns.length * (W + GX);
  const height = 40 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY);

  return (
    <section>
      <h1>Service graph</h1>
      <p>Request and error rates per service, and per call between services, from the span metrics (last 5 minutes).</p>
      {error && <p class="error">{error}</p>}
      {names.length === 0 ? (
        <p>no traffic yet</p>
      ) : (
        <svg id="service-graph" width={width} height={height} viewBox={`0 0 ${width} ${height}`}>
          <defs>
            <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto">
              <path d="M0,0 L10,5 L0,10 z" fill="#888" />
            </marker>
          </defs>
          {edges.filter((e) => pos[e.parent] && pos[e.child]).map((e) => (
            <g class="edge" data-from={e.parent} data-to={e.child}>
              <line x1={pos[e.parent].x + W} y1={pos[e.parent].y + H / 2} x2={pos[e.child].x} y2={pos[e.child].y + H / 2} stroke={e.rate > 0 && e.errors / e.rate > 0.05 ? '#c0392b' : '#888'} marker-end="url(#arrow)" />
              <text x={(pos[e.parent].x + W + pos[e.child].x) / 2} y={(pos[e.parent].y + pos[e.child].y + H) / 2 - 6} font-size="11" text-anchor="middle">
                {perSecond(e.rate)} calls/s
              </text>
              {e.errors > 0 && (
                <text x={(pos[e.parent].x + W + pos[e.child].x) / 2} y={(pos[e.parent].y + pos[e.child].y + H) / 2 + 8} font-size="11" text-anchor="middle" fill="#c0392b">
                  {((100 * e.errors) / e.rate).toFixed(1)}% failed
                </text>
              )}
            </g>
          ))}
          {names.map((n) => {
            const s = stats[n] ?? { rate: 0, errors: 0 };
            const failing = s.rate > 0 && s.errors / s.rate > 0.05;
            return (
              <g class="node" data-service={n}>
                <rect x={pos[n].x} y={pos[n].y} width={W} height={H} rx="8" fill={failing ? '#fdecea' : '#eef4fb'} stroke={failing ? '#c0392b' : '#4a7ab5'} />
                <text x={pos[n].x + 10} y={pos[n].y + 24} font-weight="bold">{n}</text>
                <text x={pos[n].x + 10} y={pos[n].y + 48} font-size="12">
                  {perSecond(s.rate)} req/s · {s.rate > 0 ? ((100 * s.errors) / s.rate).toFixed(1) : '0.0'}% errors
                </text>
              </g>
            );
          })}
        </svg>
      )}
    </section>
  );
}
