// observability/alertmanager/alertmanager.yml checked by the real, pinned amtool and Alertmanager
// (scripts/tools/install.sh; no mocks): `amtool check-config`, the routing tree, no secrets in the
// file, a broken copy that must fail, and a real Alertmanager that routes alerts to the local
// webhook and applies the inhibition rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort, REPO_ROOT, runTool, startTool, type ToolProcess } from '@meridian/test-kit';

const HOST = '127.0.0.1';
const LOCAL_WEBHOOK = 'http://127.0.0.1:9095/alerts';
const config = join(REPO_ROOT, 'observability', 'alertmanager', 'alertmanager.yml');

const amtool = (args: string[]) => runTool('amtool', args, { timeoutMs: 60_000 });

async function withCopy(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-am-'));
  try {
    const path = join(dir, 'alertmanager.yml');
    writeFileSync(path, text);
    await fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const original = readFileSync(config, 'utf8');
/** The file without its comments, for checks on what Alertmanager reads. */
const active = original
  .split('\n')
  .filter((l) => !l.trimStart().startsWith('#'))
  .join('\n');

test('amtool check-config accepts observability/alertmanager/alertmanager.yml (secret files absent)', async () => {
  // The password and routing-key files are read at send time only; they need not exist to check.
  const r = await amtool(['check-config', config]);
  assert.equal(r.code, 0, `amtool check-config failed:\n${r.output}`);
  assert.match(r.output, /SUCCESS/);
});

test('amtool check-config rejects a copy whose route names an undefined receiver', async () => {
  const broken = original.replace(/(\n\s+- receiver: )pager\n/, '$1pager-nowhere\n');
  assert.notEqual(broken, original, 'the pager route changed: update this test');
  await withCopy(broken, async (path) => {
    const r = await amtool(['check-config', path]);
    assert.notEqual(r.code, 0, `amtool accepted a route to an undefined receiver:\n${r.output}`);
    assert.match(r.output, /pager-nowhere/, `the error does not name the undefined receiver:\n${r.output}`);
  });
});

test('routing: every alert reaches the local webhook, critical also the pager, warning also email', async () => {
  const route = async (...labels: string[]): Promise<string> => {
    const r = await amtool(['config', 'routes', 'test', `--config.file=${config}`, ...labels]);
    assert.equal(r.code, 0, r.output);
    return r.stdout.trim();
  };
  assert.equal(await route('alertname=TargetDown', 'job=service-a', 'severity=critical'), 'local-webhook,pager');
  assert.equal(await route('alertname=HighErrorRatio', 'job=service-a', 'severity=warning'), 'local-webhook,email');
  assert.equal(await route('alertname=Something', 'job=service-a', 'severity=info'), 'local-webhook');
  assert.equal(await route('alertname=Unlabelled'), 'local-webhook');
});

test('grouping, inhibition and secrets as documented', () => {
  assert.match(active, /^\s*group_by: \[alertname, job\]\s*$/m);
  assert.match(active, /^\s*- url: http:\/\/127\.0\.0\.1:9095\/alerts\s*$/m);
  // secrets only by file, never literally
  assert.match(active, /^\s*smtp_auth_password_file: \/etc\/alertmanager\/secrets\/smtp-password\s*$/m);
  assert.match(active, /^\s*(- )?routing_key_file: \/etc\/alertmanager\/secrets\//m);
  for (const key of ['smtp_auth_password', 'smtp_auth_secret', 'auth_password', 'routing_key', 'service_key', 'api_key', 'bot_token', 'password']) {
    assert.doesNotMatch(active, new RegExp(`^\\s*(- )?${key}:`, 'm'), `${key} written literally in the Alertmanager config`);
  }
});

// ---------------------------------------------------------------------------------------------
// A real Alertmanager with the repo config (the webhook URL moved to a free port)

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface WebhookMessage {
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

test('a real Alertmanager sends alerts to the webhook and inhibits error alerts of a down job', { timeout: 90_000 }, async () => {
  const received: WebhookMessage[] = [];
  const sink = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/alerts') received.push(JSON.parse(body) as WebhookMessage);
      res.writeHead(200).end();
    });
  });
  sink.listen(0, HOST);
  await once(sink, 'listening');
  const sinkPort = (sink.address() as AddressInfo).port;
  const apiPort = await freePort();

  const copy = original.replace(`url: ${LOCAL_WEBHOOK}`, `url: http://${HOST}:${sinkPort}/alerts`);
  assert.notEqual(copy, original, `url: ${LOCAL_WEBHOOK} not found in the config`);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-am-live-'));
  writeFileSync(join(dir, 'alertmanager.yml'), copy);
  const api = `http://${HOST}:${apiPort}/api/v2`;
  let am: ToolProcess | undefined;
  try {
    am = await startTool(
      'alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=${HOST}:${apiPort}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { readyUrl: `http://${HOST}:${apiPort}/-/ready` },
    );

    const alert = (labels: Record<string, string>): unknown => ({
      labels,
      annotations: { summary: `${labels.alertname} on ${labels.job}`, runbook_url: `docs/runbooks/${labels.alertname}.md` },
      startsAt: new Date().toISOString(),
    });
    const res = await fetch(`${api}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        alert({ alertname: 'TargetDown', job: 'probe-down', instance: '127.0.0.1:1', severity: 'critical' }),
        alert({ alertname: 'HighErrorRatio', job: 'probe-down', severity: 'warning' }),
        alert({ alertname: 'HighErrorRatio', job: 'probe-up', severity: 'warning' }),
        alert({ alertname: 'ServiceRestarting', job: 'probe-up', instance: '127.0.0.1:2', severity: 'warning' }),
      ]),
    });
    assert.equal(res.status, 200, await res.text());

    // group_wait is 5 s: wait for the three notifications the webhook should get.
    const seen = (): string[] =>
      received.flatMap((m) => m.alerts.filter((a) => a.status === 'firing').map((a) => `${a.labels.alertname}/${a.labels.job}`)).sort();
    const until = Date.now() + 30_000;
    while (Date.now() < until && seen().length < 3) await delay(250);
    // a little longer, so an inhibited alert that wrongly gets through would show up too
    await delay(2_000);
    assert.deepEqual(seen(), ['HighErrorRatio/probe-up', 'ServiceRestarting/probe-up', 'TargetDown/probe-down'], `webhook received:\n${JSON.stringify(received, null, 2)}\n${am.output()}`);
    for (const m of received) {
      assert.equal(m.receiver, 'local-webhook');
      assert.deepEqual(Object.keys(m.groupLabels).sort(), ['alertname', 'job']);
    }

    // Alertmanager itself reports the error alert of the down job as inhibited by TargetDown.
    const alerts = (await (await fetch(`${api}/alerts`)).json()) as Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>;
    const inhibited = alerts.find((a) => a.labels.alertname === 'HighErrorRatio' && a.labels.job === 'probe-down');
    assert.ok(inhibited, 'the HighErrorRatio alert of probe-down is missing');
    assert.equal(inhibited.status.state, 'suppressed');
    assert.equal(inhibited.status.inhibitedBy.length, 1);
  } finally {
    await am?.stop();
    sink.closeAllConnections();
    await new Promise<void>((done) => sink.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  }
});
