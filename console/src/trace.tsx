import { useState } from 'preact/hooks';
import { jaegerTrace, logsQuery, type JaegerSpan, type JaegerTrace, type LogLine } from './api';
import { isError, ms, tagValue } from './format';
import { usePoll } from './route';

interface Node {
  span: JaegerSpan;
  service: string;
  depth: number;
}

/** Spans in tree order (children after their parent, by start time), with their depth. */
function treeOrder(t: JaegerTrace): Node[] {
  const ids = new Set(t.spans.map((s) => s.spanID));
  const parentOf = (s: JaegerSpan) => s.references.find((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID))?.spanID;
  const children = new Map<string | undefined, JaegerSpan[]>();
  for (const s of t.spans) children.set(parentOf(s), [...(children.get(parentOf(s)) ?? []), s]);
  const out: Node[] = [];
  const visit = (s: JaegerSpan, depth: number) => {
    out.push({ span: s, service: t.processes[s.processID]?.serviceName ?? '?', depth });
    for (const c of (children.get(s.spanID) ?? []).sort((a, b) => a.startTime - b.startTime)) visit(c, depth + 1);
  };
  for (const r of (children.get(undefined) ?? []).sort((a, b) => a.startTime - b.startTime)) visit(r, 0);
  return out;
}

export function TraceView({ id }: { id: string }) {
  const [trace, setTrace] = useState<JaegerTrace | undefined>();
  const [logs, setLogs] = useState<LogLine[]>([]);
  const [selected, setSelected] = useState<string | undefined>();
  const [error, setError] = useState('');

  // Spans and log lines arrive over a few seconds: both are re-read until the view is left.
  usePoll(
    async () => {
      try {
        const found = await jaegerTrace(id);
        if (found) setTrace(found);
        setError(found ? '' : 'not in Jaeger yet: its spans arrive within a few seconds');
      } catch (err) {
        setError((err as Error).message);
      }
      try {
        setLogs((await logsQuery(`trace_id:${id}`)).sort((a, b) => a._time.localeCompare(b._time)));
      } catch {
        /* the log store is optional for the view */
      }
    },
    3000,
    [id],
  );

  if (!trace)
    return (
      <section>
        <h1>Trace {id}</h1>
        <p class={error.startsWith('not in Jaeger yet') ? '' : 'error'}>{error || 'loading…'}</p>
      </section>
    );
  const nodes = treeOrder(trace);
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const total = Math.max(...trace.spans.map((s) => s.startTime + s.duration)) - start || 1;
  const services = [...new Set(nodes.map((n) => n.service))];
  // Blue first and never pure red, which marks failed spans.
  const colour = (svc: string) => `hsl(${(210 + services.indexOf(svc) * 67) % 360} 55% 45%)`;
  const chosen = nodes.find((n) => n.span.spanID === selected);
  const linesOf = (spanId: string) => logs.filter((l) => l.span_id === spanId);

  return (
    <section class="trace">
      <h1>
        Trace <code>{trace.traceID}</code>
      </h1>
      <p>
        {nodes.length} spans, {services.length} services ({services.join(', ')}), {ms(total)} ms, {logs.length} log lines
      </p>
      <div class="trace-body">
        <div class="waterfall" role="table">
          {nodes.map((n) => {
            const left = ((n.span.startTime - start) / total) * 100;
            const width = Math.max(0.5, (n.span.duration / total) * 100);
            const failed = isError(n.span.tags);
            return (
              <div
                class={`span-row${selected === n.span.spanID ? ' selected' : ''}${failed ? ' failed' : ''}`}
                data-service={n.service}
                data-span-id={n.span.spanID}
                onClick={() => setSelected(n.span.spanID)}
              >
                <span class="label" style={{ paddingLeft: `${n.depth * 12}px` }}>
                  <b style={{ color: colour(n.service) }}>{n.service}</b> {n.span.operationName}
                  {linesOf(n.span.spanID).length > 0 && <span class="badge">{linesOf(n.span.spanID).length} log</span>}
                </span>
                <span class="bar-track">
                  <span class="bar" style={{ left: `${left}%`, width: `${width}%`, background: failed ? '#c0392b' : colour(n.service) }} />
                </span>
                <span class="dur">{ms(n.span.duration)} ms</span>
              </div>
            );
          })}
        </div>
        <aside class="details">
          {chosen ? <SpanDetails node={chosen} lines={linesOf(chosen.span.spanID)} /> : <p>Select a span for its attributes, events, status and log lines.</p>}
          <h2>Log lines of the trace</h2>
          <ul class="logs" id="trace-logs">
            {logs.length === 0 && <li>none (yet) in VictoriaLogs</li>}
            {logs.map((l) => (
              <li class={`sev-${(l.severity_text ?? '').toLowerCase()}`} data-span-id={l.span_id}>
                <time>{new Date(l._time).toLocaleTimeString()}</time> <b>{l['service.name']}</b> {l.severity_text} {l._msg}
              </li>
            ))}
          </ul>
        </aside>
      </div>
    </section>
  );
}

function SpanDetails({ node, lines }: { node: Node; lines: LogLine[] }) {
  const s = node.span;
  const status = tagValue(s.tags, 'otel.status_code') ?? 'UNSET';
  return (
    <div class="span-details">
      <h2>
        {node.service}: {s.operationName}
      </h2>
      <p>
        status <b>{String(status)}</b>
        {tagValue(s.tags, 'otel.status_description') ? `: ${tagValue(s.tags, 'otel.status_description')}` : ''} · {ms(s.duration)} ms · span {s.spanID}
      </p>
      <h3>Attributes</h3>
      <table class="attrs">
        <tbody>
          {s.tags.map((t) => (
            <tr>
              <th>{t.key}</th>
              <td>{String(t.value)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Events</h3>
      {s.logs.length === 0 ? (
        <p>none</p>
      ) : (
        <ul>
          {s.logs.map((e) => (
            <li>
              {ms(e.timestamp - s.startTime)} ms: {e.fields.map((f) => `${f.key}=${String(f.value)}`).join(' ')}
            </li>
          ))}
        </ul>
      )}
      <h3>Its log lines</h3>
      {lines.length === 0 ? <p>none</p> : <ul>{lines.map((l) => <li>{l.severity_text} {l._msg}</li>)}</ul>}
    </div>
  );
}
