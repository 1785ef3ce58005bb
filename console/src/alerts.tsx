import { useState } from 'preact/hooks';
import { amAlerts, promAlerts, type AmAlert, type PromAlert } from './api';
import { runbookHref } from './format';
import { usePoll } from './route';

export function Alerts() {
  const [prom, setProm] = useState<PromAlert[]>([]);
  const [am, setAm] = useState<AmAlert[]>([]);
  const [error, setError] = useState('');
  usePoll(async () => {
    try {
      const [p, a] = await Promise.all([promAlerts(), amAlerts()]);
      setProm(p.sort((x, y) => (x.state === y.state ? x.labels.alertname.localeCompare(y.labels.alertname) : x.state === 'firing' ? -1 : 1)));
      setAm(a);
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
  }, 3000);
  return (
    <section>
      <h1>Alerts</h1>
      {error && <p class="error">{error}</p>}
      <h2>Pending and firing (Prometheus)</h2>
      <table class="alerts" id="prom-alerts">
        <thead>
          <tr>
            <th>alert</th>
            <th>state</th>
            <th>severity</th>
            <th>job</th>
            <th>since</th>
            <th>summary</th>
            <th>runbook</th>
          </tr>
        </thead>
        <tbody>
          {prom.length === 0 && (
            <tr>
              <td colSpan={7}>no alert is pending or firing</td>
            </tr>
          )}
          {prom.map((a) => (
            <tr class={a.state} data-alert={a.labels.alertname}>
              <td>{a.labels.alertname}</td>
              <td>{a.state}</td>
              <td>{a.labels.severity}</td>
              <td>{a.labels.job ?? '—'}</td>
              <td>{new Date(a.activeAt).toLocaleTimeString()}</td>
              <td>{a.annotations.summary}</td>
              <td>{a.annotations.runbook_url ? <a href={runbookHref(a.annotations.runbook_url)}>{a.annotations.runbook_url.split('/').pop()}</a> : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Received by Alertmanager</h2>
      <ul id="am-alerts">
        {am.length === 0 && <li>none</li>}
        {am.map((a) => (
          <li>
            <b>{a.labels.alertname}</b> {a.status.state} since {new Date(a.startsAt).toLocaleTimeString()} → {a.receivers.map((r) => r.name).join(', ')}
          </li>
        ))}
      </ul>
    </section>
  );
}
