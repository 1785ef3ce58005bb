// The suite's dashboards, drawn from the same definitions Grafana loads: the JSON that
// observability/grafana/src generates (one TypeScript definition, the Grafana JSON its output),
// read here at build time and queried live against the real Prometheus and Jaeger. Grafana cannot
// be had on these machines; compose and the cluster run it with the same files.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { jaegerSearch, promQuery, promRange, type PromSeries } from './api';
import { ms } from './format';
import { usePoll } from './route';

interface Target {
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  datasource?: { type?: string };
  queryType?: string;
  service?: string;
  limit?: number;
}
export interface Panel {
  type: string;
  title: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string; decimals?: number; mappings?: { type: string; options: Record<string, { text?: string }> }[] } };
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  label?: string;
  definition?: string;
  includeAll?: boolean;
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

const files = import.meta.glob<Dashboard>('../../observability/grafana/dashboards/*.json', { eager: true, import: 'default' });
export const DASHBOARDS: Dashboard[] = Object.values(files).sort((a, b) => (a.uid === 'meridian-overview' ? -1 : b.uid === 'meridian-overview' ? 1 : a.title.localeCompare(b.title)));

/** Rows' panels flattened (a collapsed row carries its panels inside). */
export const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

const RATE_INTERVAL = '1m';
const RANGE_S = 15 * 60;
const STEP_S = 15;

function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => (name === '__rate_interval' ? RATE_INTERVAL : vars[name] ?? m));
}

function legend(format: string | undefined, metric: Record<string, string>): string {
  if (!format || format === '__auto') {
    const labels = Object.entries(metric).filter(([k]) => k !== '__name__');
    return labels.length ? labels.map(([k, v]) => `${k}=${v}`).join(', ') : (metric.__name__ ?? 'value');
  }
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k: string) => metric[k] ?? '');
}

function format(value: number, unit: string | undefined, decimals?: number): string {
  if (!Number.isFinite(value)) return String(value);
  const d = decimals ?? (Math.abs(value) >= 100 ? 0 : 2);
  switch (unit) {
    case 'percentunit':
      return `${(value * 100).toFixed(d > 1 ? 1 : d)}%`;
    case 's':
      return value < 1 ? `${(value * 1000).toFixed(d)} ms` : `${value.toFixed(d)} s`;
    case 'bytes':
      return value >= 1048576 ? `${(value / 1048576).toFixed(1)} MiB` : value >= 1024 ? `${(value / 1024).toFixed(1)} KiB` : `${value.toFixed(0)} B`;
    case 'Bps':
      return `${(value / 1024).toFixed(1)} KiB/s`;
    case 'reqps':
      return `${value.toFixed(d)} req/s`;
    case 'ops':
      return `${value.toFixed(d)} ops/s`;
    default:
      return value.toFixed(d);
  }
}

type State = 'loading' | 'data' | 'empty' | 'error';

function PanelView({ panel, vars }: { panel: Panel; vars: Record<string, string> }) {
  const [state, setState] = useState<State>('loading');
  const [error, setError] = useState('');
  const [series, setSeries] = useState<{ name: string; values: [number, number][] }[]>([]);
  const [traces, setTraces] = useState<{ id: string; root: string; us: number }[]>([]);
  const unit = panel.fieldConfig?.defaults?.unit;
  const targets = panel.targets ?? [];
  const jaeger = targets.find((t) => t.datasource?.type === 'jaeger');

  usePoll(
    async () => {
      try {
        if (jaeger) {
          const now = Date.now() * 1000;
          const found = await jaegerSearch({ service: jaeger.service ?? '', limit: String(jaeger.limit ?? 20), start: String(now - 3600e6), end: String(now) });
          setTraces(
            found.map((t) => {
              const root = t.spans.find((s) => !s.references.some((r) => r.refType === 'CHILD_OF')) ?? t.spans[0];
              return { id: t.traceID, root: root.operationName, us: Math.max(...t.spans.map((s) => s.duration)) };
            }),
          );
          setState(found.length ? 'data' : 'empty');
          return;
        }
        const end = Math.floor(Date.now() / 1000);
        const out: { name: string; values: [number, number][] }[] = [];
        for (const t of targets.filter((x) => x.expr)) {
          const expr = substitute(t.expr!, vars);
          if (panel.type === 'timeseries') {
            const r: PromSeries[] = await promRange(expr, end - RANGE_S, end, STEP_S);
            for (const s of r) out.push({ name: legend(t.legendFormat, s.metric), values: s.values.map(([ts, v]) => [ts, Number(v)]) });
          } else {
            for (const s of await promQuery(expr)) out.push({ name: legend(t.legendFormat, s.metric), values: [[s.value[0], Number(s.value[1])]] });
          }
        }
        setSeries(out);
        setState(out.some((s) => s.values.some(([, v]) => Number.isFinite(v))) ? 'data' : 'empty');
        setError('');
      } catch (err) {
        setState('error');
        setError((err as Error).message);
      }
    },
    10_000,
    [JSON.stringify(vars)],
  );

  const g = panel.gridPos ?? { x: 0, y: 0, w: 24, h: 6 };
  const style = { gridColumn: `${g.x + 1} / span ${g.w}`, gridRow: `${g.y + 1} / span ${g.h}` };
  if (panel.type === 'row') return <h2 class="dash-row" style={style}>{panel.title}</h2>;
  const mapping = panel.fieldConfig?.defaults?.mappings?.find((m) => m.type === 'value')?.options;
  const shown = (v: number) => mapping?.[String(v)]?.text ?? format(v, unit, panel.fieldConfig?.defaults?.decimals);
  return (
    <div class="panel" style={style} data-panel-title={panel.title} data-state={state}>
      <h3>{panel.title}</h3>
      {state === 'error' && <p class="error">{error}</p>}
      {state === 'empty' && <p class="muted">no data</p>}
      {state === 'data' && panel.type === 'timeseries' && <Chart series={series} unit={unit} height={g.h * 30 - 50} />}
      {state === 'data' && (panel.type === 'stat' || panel.type === 'bargauge') && (
        <ul class={`stat ${panel.type}`}>
          {series.map((s) => {
            const v = s.values[s.values.length - 1][1];
            return (
              <li>
                <b>{shown(v)}</b> <span class="muted">{s.name}</span>
                {panel.type === 'bargauge' && <span class="gauge" style={{ width: `${Math.min(100, Math.max(0, unit === 'percentunit' ? v * 100 : (v / Math.max(...series.map((x) => x.values[x.values.length - 1][1]), 1e-9)) * 100))}%` }} />}
              </li>
            );
          })}
        </ul>
      )}
      {state === 'data' && jaeger && (
        <table class="attrs">
          <tbody>
            {traces.map((t) => (
              <tr>
                <td>
                  <a href={`#/trace/${t.id}`}>{t.root}</a>
                </td>
                <td>{ms(t.us)} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Chart({ series, unit, height }: { series: { name: string; values: [number, number][] }[]; unit?: string; height: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const times = [...new Set(series.flatMap((s) => s.values.map(([t]) => t)))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const data: uPlot.AlignedData = [
      times,
      ...series.map((s) => {
        const col: (number | null)[] = times.map(() => null);
        for (const [t, v] of s.values) col[index.get(t)!] = Number.isFinite(v) ? v : null;
        return col;
      }),
    ];
    const plot = new uPlot(
      {
        width: el.current.clientWidth || 400,
        height: Math.max(80, height),
        legend: { show: series.length <= 6 },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => format(t, unit)), size: 90 }],
        series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: `hsl(${(210 + i * 67) % 360} 60% 45%)`, width: 1.5 }))],
      },
      data,
      el.current,
    );
    return () => plot.destroy();
  }, [series, height]);
  return <div ref={el} class="chart" />;
}

export function Dashboards({ uid }: { uid?: string }) {
  const dashboard = DASHBOARDS.find((d) => d.uid === uid) ?? DASHBOARDS[0];
  const variables = dashboard.templating.list.filter((v) => v.type === 'query');
  const [options, setOptions] = useState<Record<string, string[]>>({});
  const [vars, setVars] = useState<Record<string, string>>({});

  useEffect(() => {
    setVars({});
    void (async () => {
      const next: Record<string, string[]> = {};
      const chosen: Record<string, string> = {};
      for (const v of variables) {
        const m = /label_values\((\w+),\s*(\w+)\)/.exec(v.definition ?? '');
        const values = m ? await promQuery(`count by (${m[2]}) (${m[1]})`).then((r) => r.map((s) => s.metric[m[2]]).filter(Boolean).sort(), () => []) : [];
        next[v.name] = values;
        chosen[v.name] = v.includeAll ? '.*' : values.includes('service-a') ? 'service-a' : (values[0] ?? '');
      }
      setOptions(next);
      setVars(chosen);
    })();
  }, [dashboard.uid]);

  const ready = variables.every((v) => vars[v.name] !== undefined);
  return (
    <section>
      <h1>Dashboards</h1>
      <nav class="dash-tabs">
        {DASHBOARDS.map((d) => (
          <a href={`#/dashboards/${d.uid}`} class={d.uid === dashboard.uid ? 'active' : ''}>
            {d.title}
          </a>
        ))}
      </nav>
      <p class="muted">
        The panels of <code>observability/grafana/dashboards/{dashboard.uid}.json</code> (generated from <code>observability/grafana/src</code>, what Grafana
        loads in compose and the cluster), queried live: the last 15 minutes, every 10 s.
      </p>
      {variables.map((v) => (
        <label class="var">
          {v.label ?? v.name}{' '}
          <select value={vars[v.name]} onChange={(e) => setVars({ ...vars, [v.name]: e.currentTarget.value })}>
            {v.includeAll && <option value=".*">All</option>}
            {(options[v.name] ?? []).map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        </label>
      ))}
      {ready && (
        <div class="dash-grid" id="dashboard" data-uid={dashboard.uid}>
          {/* Keyed by dashboard: a panel's state and polling never carry over to another board's. */}
          {allPanels(dashboard).map((p, i) => (
            <PanelView key={`${dashboard.uid}-${i}`} panel={p} vars={vars} />
          ))}
        </div>
      )}
    </section>
  );
}
