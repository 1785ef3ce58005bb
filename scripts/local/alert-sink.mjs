// @ts-check
// The local Alertmanager webhook receiver: prints each notification and appends it to alerts.jsonl in
// the run folder, so a user sees alerts in the console and tests can read what Alertmanager sent.
import { appendFileSync } from 'node:fs';
import http from 'node:http';

/**
 * @param {number} port
 * @param {string} file
 * @param {(text: string) => void} print
 * @returns {Promise<http.Server>}
 */
export function startAlertSink(port, file, print) {
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/alerts') {
      res.writeHead(404).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      body += c;
      if (body.length > 1_000_000) req.destroy();
    });
    req.on('end', () => {
      try {
        const msg = JSON.parse(body);
        appendFileSync(file, JSON.stringify(msg) + '\n');
        for (const a of msg.alerts ?? []) {
          const l = a.labels ?? {};
          print(`${String(a.status).toUpperCase()} ${l.alertname} ${l.severity ?? ''} job=${l.job ?? '-'}: ${a.annotations?.summary ?? ''}`);
        }
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
