import { useEffect, useRef, useState } from 'preact/hooks';
import { jaegerOperations, jaegerSearch, jaegerServices, sendImageToEdge, type JaegerTrace } from './api';
import { isError, ms, tagValue } from './format';
import { go } from './route';

interface Row {
  id: string;
  root: string;
  services: string[];
  spans: number;
  durationUs: number;
  start: number;
  error: boolean;
  synthetic: boolean;
}

function summarise(t: JaegerTrace): Row {
  const start = Math.min(...t.spans.map((s) => s.startTime));
  const end = Math.max(...t.spans.map((s) => s.startTime + s.duration));
  const root = t.spans.find((s) => !s.references.some((r) => r.refType === 'CHILD_OF')) ?? t.spans[0];
  return {
    id: t.traceID,
    root: `${t.processes[root.processID]?.serviceName}: ${root.operationName}`,
    services: [...new Set(t.spans.map((s) => t.processes[s.processID]?.serviceName))],
    spans: t.spans.length,
    durationUs: end - start,
    start,
    error: t.spans.some((s) => isError(s.tags)),
    synthetic: t.spans.some((s) => String(tagValue(s.tags, 'meridian.synthetic')) === 'true'),
  };
}

export function Traces() {
  const [services, setServices] = useState<string[]>([]);
  const [operations, setOperations] = useState<string[]>([]);
  const [form, setForm] = useState({ service: '', operation: '', minDuration: '', errors: false, synthetic: 'any' });
  const [rows, setRows] = useState<Row[] | undefined>();
  // Which search the table shows (errors only or not), for a reader of the page to tell.
  const [shownErrorsOnly, setShownErrorsOnly] = useState(false);
  const [error, setError] = useState('');
  const [sent, setSent] = useState<string>('');
  // Only the latest search may fill the table: an earlier one that answers later is dropped.
  const latest = useRef(0);

  useEffect(() => {
    jaegerServices().then((s) => {
      setServices(s);
      if (!form.service && s.length) setForm((f) => ({ ...f, service: s.includes('preprocessing-edge') ? 'preprocessing-edge' : s[0] }));
    }, (e: Error) => setError(e.message));
  }, []);
  useEffect(() => {
    if (form.service) jaegerOperations(form.service).then(setOperations, () => setOperations([]));
  }, [form.service]);

  async function search(e?: Event) {
    e?.preventDefault();
    const mine = ++latest.current;
    setError('');
    const q: Record<string, string> = { service: form.service, limit: '40', lookback: '1h', start: String((Date.now() - 3600_000) * 1000), end: String(Date.now() * 1000) };
    if (form.operation) q.operation = form.operation;
    if (form.minDuration) q.minDuration = `${Number(form.minDuration)}ms`;
    // Jaeger v2 keeps a span's status apart from its attributes, so its tag search cannot find
    // errors: they are picked from the traces it returns (a wider search for them).
    if (form.errors) q.limit = '200';
    if (form.synthetic !== 'any') q.tags = JSON.stringify({ 'meridian.synthetic': form.synthetic });
    try {
      const found = (await jaegerSearch(q))
        .map(summarise)
        .filter((r) => !form.errors || r.error)
        .sort((a, b) => b.start - a.start)
        .slice(0, 40);
      if (mine === latest.current) {
        setRows(found);
        setShownErrorsOnly(form.errors);
      }
    } catch (err) {
      if (mine === latest.current) setError((err as Error).message);
    }
  }
  useEffect(() => {
    if (form.service) void search();
  }, [form.service]);

  async function tryEdge() {
    setError('');
    setSent('sending…');
    try {
      const answer = await sendImageToEdge();
      setSent(answer.traceId);
    } catch (err) {
      setSent('');
      setError((err as Error).message);
    }
  }

  return (
    <section>
      <h1>Traces</h1>
      <p class="try">
        <button id="send-edge" onClick={tryEdge}>
          Send an image to the edge
        </button>{' '}
        {sent && sent !== 'sending…' ? (
          <span>
            answered with trace <a id="edge-trace" href={`#/trace/${sent}`}>{sent}</a>
          </span>
        ) : (
          sent
        )}
      </p>
      <form class="search" onSubmit={search}>
        <label>
          service
          <select name="service" value={form.service} onChange={(e) => setForm({ ...form, service: e.currentTarget.value, operation: '' })}>
            {services.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          operation
          <select name="operation" value={form.operation} onChange={(e) => setForm({ ...form, operation: e.currentTarget.value })}>
            <option value="">all</option>
            {operations.map((o) => (
              <option value={o}>{o}</option>
            ))}
          </select>
        </label>
        <label>
          min duration (ms)
          <input name="minDuration" type="number" min="0" value={form.minDuration} onInput={(e) => setForm({ ...form, minDuration: e.currentTarget.value })} />
        </label>
        <label>
          <input name="errors" type="checkbox" checked={form.errors} onChange={(e) => setForm({ ...form, errors: e.currentTarget.checked })} /> errors only
        </label>
        <label>
          synthetic
          <select name="synthetic" value={form.synthetic} onChange={(e) => setForm({ ...form, synthetic: e.currentTarget.value })}>
            <option value="any">any</option>
            <option value="true">only</option>
            <option value="false">none</option>
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      {error && <p class="error">{error}</p>}
      {rows && (
        <table class="traces" data-errors-only={String(shownErrorsOnly)}>
          <thead>
            <tr>
              <th>started</th>
              <th>root</th>
              <th>services</th>
              <th>spans</th>
              <th>duration (ms)</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={5}>no traces in the last hour</td>
              </tr>
            )}
            {rows.map((r) => (
              <tr class={r.error ? 'failed' : ''} onClick={() => go(`trace/${r.id}`)}>
                <td>{new Date(r.start / 1000).toLocaleTimeString()}</td>
                <td>
                  <a href={`#/trace/${r.id}`}>{r.root}</a>
                  {r.error && <span class="badge error">error</span>}
                  {r.synthetic && <span class="badge">synthetic</span>}
                </td>
                <td>{r.services.join(', ')}</td>
                <td>{r.spans}</td>
                <td>{ms(r.durationUs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
