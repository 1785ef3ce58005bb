// The suite's dashboards in real Chromium against the stack `npm start` runs, drawn two ways from
// the one TypeScript definition: by the console (the panels of observability/grafana/dashboards,
// which Grafana loads in compose and the cluster) and by Perses (observability/perses/dashboards,
// provisioned into the local Perses). After real traffic (every route, the edge, OTLP metrics, and
// a k6 smoke run for the k6 board), every panel of every dashboard draws data in both; the test
// names any that stays empty.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { REPO_ROOT, request, runCommand } from '@meridian/test-kit';
import { openPage, screenshot, stackAndBrowser } from './browser';

interface PersesDashboard {
  metadata: { name: string; project: string };
  spec: { display: { name: string }; panels: Record<string, { spec: { display: { name: string }; plugin: { kind: string } } }> };
}
const PERSES_DASHBOARDS = readdirSync(path.join(REPO_ROOT, 'observability/perses/dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'observability/perses/dashboards', f), 'utf8')) as PersesDashboard);

const DASHBOARDS = readdirSync(path.join(REPO_ROOT, 'observability/grafana/dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(path.join(REPO_ROOT, 'observability/grafana/dashboards', f), 'utf8')) as { uid: string; title: string; panels: { type: string; panels?: { type: string }[] }[] });

describe('the dashboards in the console, in Chromium', { timeout: 600_000 }, () => {
  const suite = stackAndBrowser();
  let browser: Browser;
  before(() => {
    browser = suite.browser();
  });

  test('after real traffic, every panel of every dashboard draws data', async (t) => {
    const stack = suite.stack();
    const a = stack.url('service-a');
    const edge = stack.url('preprocessing-edge');
    const png = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toBuffer();
    // The collector's metric-point counters move only when something pushes OTLP metrics.
    const gauge = () =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'dashboards-browser-test' } }] },
            scopeMetrics: [{ metrics: [{ name: 'meridian_browser_test_probe', gauge: { dataPoints: [{ asDouble: 1, timeUnixNano: String(BigInt(Date.now()) * 1_000_000n) }] } }] }],
          },
        ],
      });
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        const json = { 'content-type': 'application/json' };
        await Promise.all([
          ...['/', '/serverError', '/notFound', '/call-service-b', '/example', '/logs'].map((p) => request(a + p).catch(() => undefined)),
          request(`${a}/hash`, { method: 'POST', headers: json, body: JSON.stringify({ data: `r${i}`, iterations: 1 + (i % 3) }) }).catch(() => undefined),
          request(`${edge}/preprocessing`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png }).catch(() => undefined),
          request(`http://127.0.0.1:${stack.summary.ports.collectorHttp}/v1/metrics`, { method: 'POST', headers: json, body: gauge() }).catch(() => undefined),
        ]);
        await delay(500);
      }
    })();
    // The k6 board shows k6's own results: a smoke run writes them to the stack's Prometheus.
    const results = mkdtempSync(path.join(tmpdir(), 'meridian-k6-'));
    const k6 = runCommand(process.execPath, [path.join(REPO_ROOT, 'scripts/load.mjs'), 'smoke'], {
      env: { ...process.env, SERVICE_A_URL: a, EDGE_URL: edge, PROMETHEUS_URL: stack.url('prometheus'), LOAD_RESULTS_DIR: results },
      timeoutMs: 120_000,
    });

    const { page, errors } = await openPage(browser);
    const empty: string[] = [];
    try {
      for (const d of DASHBOARDS) {
        await page.goto(`${stack.url('console')}/#/dashboards/${d.uid}`);
        const expected = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row').length;
        await page.locator(`#dashboard[data-uid="${d.uid}"]`).waitFor({ timeout: 20_000 });
        // Data appears within a few scrapes (every 5 s) of the traffic; the k6 board once k6 has run.
        let states: { title: string; state: string }[] = [];
        for (const until = Date.now() + 150_000; Date.now() < until; await delay(3_000)) {
          states = await page.locator('.panel').evaluateAll((ps) => ps.map((p) => ({ title: p.getAttribute('data-panel-title') ?? '', state: p.getAttribute('data-state') ?? '' })));
          if (states.length === expected && states.every((s) => s.state === 'data')) break;
        }
        assert.equal(states.length, expected, `${d.uid}: every panel of the JSON is drawn`);
        empty.push(...states.filter((s) => s.state !== 'data').map((s) => `${d.title} / "${s.title}": ${s.state}`));
        t.diagnostic(`${d.uid}: ${states.filter((s) => s.state === 'data').length}/${expected} panels with data; ${await screenshot(page, `console-dashboard-${d.uid}`)}`);
      }
    } finally {
      stop = true;
      await traffic;
      const k6run = await k6;
      rmSync(results, { recursive: true, force: true });
      t.diagnostic(`k6 smoke exited ${k6run.code}`);
    }
    assert.deepEqual(empty, [], `panels without data:\n${empty.join('\n')}`);
    assert.deepEqual(errors, [], 'no console error');
    await page.close();
  });

  test('the same dashboards in Perses: every panel draws data', async (t) => {
    // Runs after the console's test, on the data its traffic and k6 run left in Prometheus.
    const stack = suite.stack();
    const perses = `http://127.0.0.1:${stack.summary.ports.perses}`;
    const { page, errors } = await openPage(browser);
    // Perses draws a panel only once it is in view: a window tall enough for a whole dashboard.
    await page.setViewportSize({ width: 1400, height: 6000 });
    const empty: string[] = [];
    for (const d of PERSES_DASHBOARDS) {
      const panels = Object.values(d.spec.panels);
      await page.goto(`${perses}/projects/${d.metadata.project}/dashboards/${d.metadata.name}`);
      await page.getByText(d.spec.display.name).first().waitFor({ timeout: 20_000 });
      const cards = page.locator('[data-testid="panel"]');
      await cards.first().waitFor({ timeout: 20_000 });
      let states: { title: string; state: string }[] = [];
      for (const until = Date.now() + 60_000; Date.now() < until; await delay(2_000)) {
        states = [];
        for (let i = 0; i < (await cards.count()); i++) {
          states.push(
            await cards.nth(i).evaluate((el) => {
              // A panel is a section: its title in the header, what it draws in the figure, where
              // a failed query shows as an alert.
              const title = el.querySelector('header h6')?.textContent?.trim() ?? '';
              const body = el.querySelector('figure');
              const alert = body?.querySelector('[role="alert"]');
              const text = body?.textContent?.trim() ?? '';
              const drawn = body?.querySelector('canvas') != null;
              const state = alert ? `error: ${alert.textContent?.slice(0, 200)}` : /\bNo data\b/.test(text) ? 'no data' : drawn || text !== '' ? 'data' : 'empty';
              return { title, state };
            }),
          );
        }
        if (states.length === panels.length && states.every((s) => s.state === 'data')) break;
      }
      assert.equal(states.length, panels.length, `${d.metadata.name}: every panel of the JSON is drawn (${states.map((s) => s.title).join(', ')})`);
      empty.push(...states.filter((s) => s.state !== 'data').map((s) => `${d.spec.display.name} / "${s.title}": ${s.state}`));
      t.diagnostic(`${d.metadata.name}: ${states.filter((s) => s.state === 'data').length}/${panels.length} panels with data; ${await screenshot(page, `perses-${d.metadata.name}`)}`);
    }
    assert.deepEqual(empty, [], `Perses panels without data:\n${empty.join('\n')}`);
    assert.deepEqual(errors, [], 'no console error');
    await page.close();
  });
});
