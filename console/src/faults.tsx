import { useState } from 'preact/hooks';
import { ApiError, jaegerSearch, listFaults, promAlerts, promQuery, switchFault, type Fault, type JaegerTrace, type PromAlert } from './api';
import { isError, runbookHref } from './format';
import { usePoll } from './route';

/** The PromQL that shows each fault's symptom on its service, and its unit. */
function symptomQuery(f: Fault): [string, string] {
  const job = `job="${f.service}"`;
  switch (f.fault) {
    case 'latency-ms':
    case 'latency-share':
      return [`1000 * histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{${job}}[1m])))`, 'ms p95'];
    case 'error-share':
    case 'downstream-unreachable':
      return [`sum(rate(http_requests_total{${job},status_code=~"5.."}[1m])) / sum(rate(http_requests_total{${job}}[1m]))`, 'share of 5xx'];
    case 'crash':
      return [`changes(process_start_time_seconds{${job}}[10m])`, 'restarts in 10 min'];
    case 'cpu-hog':
      return [`rate(process_cpu_seconds_total{${job}}[1m])`, 'cores'];
    case 'memory-growth':
      return [`process_resident_memory_bytes{${job}} / 1048576`, 'MiB resident'];
    default:
      return [`max(fault_active{${job}})`, 'faults active'];
  }
}

export function Faults() {
  const [faults, setFaults] = useState<Fault[]>([]);
  const [file, setFile] = useState('');
  const [error, setError] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [scenario, setScenario] = useState<string | undefined>();

  usePoll(async () => {
    try {
      const r = await listFaults();
      setFaults(r.faults);
      setFile(r.file);
    } catch (err) {
      setError((err as Error).message);
    }
  }, 3000);

  async function flip(f: Fault, state: 'on' | 'off') {
    setError('');
    const raw = values[f.key];
    try {
      const updated = await switchFault(f.service, f.fault, state, state === 'on' && f.takesValue && raw !== undefined && raw !== '' ? Number(raw) : undefined);
      setFaults((all) => all.map((x) => (x.key === updated.key ? updated : x)));
      if (state === 'on') setScenario(f.key);
    } catch (err) {
      setError(err instanceof ApiError && err.problem ? `${err.problem.title}: ${err.problem.detail}` : (err as Error).message);
    }
  }

  const active = faults.find((f) => f.key === scenario);
  return (
    <section>
      <h1>Faults &amp; scenarios</h1>
      <p>
        Every fault of the flag file the services watch (<code>{file}</code>). Switching one on starts its scenario: the symptom live, the alert it
        should fire, and a trace that shows the cause.
      </p>
      {error && <p class="error" id="fault-error">{error}</p>}
      {active && <Scenario fault={active} onOff={() => flip(active, 'off')} />}
      <table class="faults">
        <thead>
          <tr>
            <th>service</th>
            <th>fault</th>
            <th>state</th>
            <th>value</th>
            <th>symptom</th>
            <th>alert</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {faults.map((f) => (
            <tr class={f.on ? 'on' : ''} data-fault={f.key}>
              <td>{f.service}</td>
              <td title={f.hint}>
                {f.fault}
                {f.unsafe && <span class="badge">unsafe</span>}
              </td>
              <td>{f.on ? 'ON' : 'off'}</td>
              <td>
                {f.takesValue ? (
                  <input
                    class="value"
                    type="number"
                    min="0"
                    max={f.max ?? undefined}
                    step="any"
                    placeholder={String(f.onValue)}
                    value={values[f.key] ?? ''}
                    onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })}
                  />
                ) : (
                  '—'
                )}
              </td>
              <td>{f.symptom}</td>
              <td>{f.alert ? <a href={runbookHref(`docs/runbooks/${f.alert}.md`)}>{f.alert}</a> : 'none'}</td>
              <td>
                {f.on ? (
                  <button class="switch-off" onClick={() => flip(f, 'off')}>
                    switch off
                  </button>
                ) : (
                  <button class="switch-on" onClick={() => flip(f, 'on')}>
                    switch on
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Scenario({ fault, onOff }: { fault: Fault; onOff: () => void }) {
  const [symptom, setSymptom] = useState<number | undefined>();
  const [alert, setAlert] = useState<PromAlert | undefined>();
  const [traceId, setTraceId] = useState<string | undefined>();
  const [query, unit] = symptomQuery(fault);

  usePoll(
    async () => {
      try {
        const r = await promQuery(query);
        setSymptom(r.length ? Number(r[0].value[1]) : undefined);
      } catch {
        setSymptom(undefined);
      }
      if (fault.alert) {
        const alerts = await promAlerts().catch(() => [] as PromAlert[]);
        setAlert(alerts.find((a) => a.labels.alertname === fault.alert && (!a.labels.job || a.labels.job === fault.service)) ?? alerts.find((a) => a.labels.alertname === fault.alert));
      }
      // A trace of the symptom: a failed one for errors (picked from the latest: Jaeger's tag search
      // cannot see a span's status), a slow one for latency, else the latest.
      const failing = /error|unreachable/.test(fault.fault);
      const q: Record<string, string> = { service: fault.service, limit: failing ? '50' : '1', lookback: '15m', start: String((Date.now() - 900_000) * 1000), end: String(Date.now() * 1000) };
      if (/latency/.test(fault.fault)) q.minDuration = `${Math.max(1, Number(fault.onValue) / 2 || 100)}ms`;
      const found = (await jaegerSearch(q).catch(() => [] as JaegerTrace[])).filter((t) => !failing || t.spans.some((s) => isError(s.tags)));
      if (found[0]) setTraceId(found[0].traceID);
    },
    2000,
    [fault.key],
  );

  return (
    <div class="scenario" id="scenario" data-fault={fault.key}>
      <h2>
        Scenario: {fault.service} {fault.fault} {fault.on ? 'ON' : 'off'}
      </h2>
      <ol>
        <li>
          Symptom: {fault.symptom}. Now:{' '}
          <b id="symptom-value">{symptom === undefined || Number.isNaN(symptom) ? 'no data yet' : `${symptom.toFixed(3)} ${unit}`}</b> <code>{query}</code>
        </li>
        <li>
          Alert:{' '}
          {fault.alert ? (
            <span id="scenario-alert" data-state={alert?.state ?? 'inactive'}>
              <b>{fault.alert}</b> {alert ? alert.state : 'not yet pending'} (<a href={runbookHref(`docs/runbooks/${fault.alert}.md`)}>runbook</a>)
            </span>
          ) : (
            'none: this fault fires no alert of its own'
          )}
        </li>
        <li>Cause: {traceId ? <a id="scenario-trace" href={`#/trace/${traceId}`}>a trace of {fault.service} that shows it</a> : 'no trace yet (send traffic to the service)'}</li>
        <li>
          <button onClick={onOff} disabled={!fault.on}>
            switch it off
          </button>
        </li>
      </ol>
    </div>
  );
}
