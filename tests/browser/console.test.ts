// The Meridian console (scripts/local/console-server.cjs + console/) in real Chromium, against the
// stack `npm start` runs: every page loads without a console error; a click sends an image to the
// edge and the answer's trace opens with the spans of all four services, the browser's own span and
// the trace's log lines; a fault switched on in the page fires its alert, which the page shows; the
// service graph and the errors-only search then show that traffic.
// Screenshots in .cache/test-output/screenshots/.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { poll, request } from '@meridian/test-kit';
import { openPage, screenshot, stackAndBrowser } from './browser';

// The rate the service graph prints before a unit ("0.078 calls/s"), or NaN when it prints none.
const rateOf = (text: string | null, unit: string) => Number(new RegExp(`(\\d+\\.\\d+) ${unit.replace('/', '\\/')}`).exec(text ?? '')?.[1] ?? NaN);

const FOUR = ['preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];

describe('the Meridian console in Chromium', { timeout: 600_000 }, () => {
  const suite = stackAndBrowser();
  let browser: Browser;
  let url: string;
  before(() => {
    browser = suite.browser();
    url = suite.stack().url('console');
  });

  const servicesOnPage = async (page: Page) =>
    new Set(await page.locator('.span-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-service') ?? '')));

  test('every page loads without a console error', async (t) => {
    const { page, errors } = await openPage(browser);
    for (const [hash, marker] of [
      ['traces', 'form.search'],
      ['graph', 'h1:has-text("Service graph")'],
      ['faults', 'table.faults tbody tr'],
      ['alerts', '#prom-alerts'],
    ] as const) {
      await page.goto(`${url}/#/${hash}`);
      await page.locator(marker).first().waitFor({ timeout: 20_000 });
      t.diagnostic(`${hash}: ${await screenshot(page, `console-${hash}`)}`);
    }
    assert.deepEqual(errors, [], 'no console error on any page');
    await page.close();
  });

  test('every URL the start-up summary offers opens a working page, or is labelled as an OTLP endpoint', async (t) => {
    const { page } = await openPage(browser);
    const opened: string[] = [];
    for (const [name, offered] of Object.entries(suite.stack().summary.urls)) {
      const first = offered.split(/\s+/)[0];
      if (!first.startsWith('http://')) {
        assert.match(offered, /OTLP/, `${name}: ${offered} is not a page, so it says what it is`);
        continue;
      }
      const res = await page.goto(first);
      assert.ok(res && res.status() < 400, `${name}: ${first} answered ${res?.status()}`);
      const text = await page.locator('body').innerText();
      assert.doesNotMatch(text, /placeholder|Test Page|not found/i, `${name}: ${first} is a placeholder or a 404`);
      opened.push(name);
    }
    t.diagnostic(`opened: ${opened.join(', ')}`);
    assert.ok(opened.includes('console') && opened.includes('victorialogs') && opened.includes('jaeger'));
    await page.close();
  });

  test('a click sends an image to the edge; its trace opens with all four services, the page\'s own span and the log lines', async (t) => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${url}/#/traces`);
    await page.locator('#send-edge').click();
    const link = page.locator('#edge-trace');
    await link.waitFor({ timeout: 60_000 });
    const traceId = (await link.innerText()).trim();
    assert.match(traceId, /^[0-9a-f]{32}$/);
    await link.click();
    await poll(`the waterfall of ${traceId} with the four services and meridian-console`, async () => {
      const have = await servicesOnPage(page);
      return [...FOUR, 'meridian-console'].every((s) => have.has(s)) ? true : undefined;
    }, 60_000, 1000);
    // The trace's log lines, each tied to a span of the waterfall.
    await poll('the trace\'s log lines beside the waterfall', async () => ((await page.locator('#trace-logs li[data-span-id]').count()) > 0 ? true : undefined), 60_000, 1000);
    const spanIds = new Set(await page.locator('.span-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-span-id') ?? '')));
    const lineSpans = await page.locator('#trace-logs li[data-span-id]').evaluateAll((ls) => ls.map((l) => l.getAttribute('data-span-id') ?? ''));
    assert.ok(lineSpans.every((id) => spanIds.has(id)), 'every log line names a span of the trace');
    // A span's details: its attributes and status.
    await page.locator('.span-row[data-service="inference-ensemble"]').first().click();
    const details = await page.locator('.span-details').innerText();
    assert.match(details, /status /);
    assert.match(details, /Attributes/);
    t.diagnostic(`trace ${traceId}: ${await screenshot(page, 'console-trace')}`);

    // The same trace is found by the search (service, operation) and listed.
    await page.goto(`${url}/#/traces`);
    await page.locator('select[name="service"]').selectOption('preprocessing-edge');
    await page.locator('form.search button[type="submit"]').click();
    await poll('the search lists the trace', async () => ((await page.locator(`a[href="#/trace/${traceId}"]`).count()) > 0 ? true : undefined), 30_000, 1000);
    assert.deepEqual(errors, [], 'no console error');
    await page.close();
  });

  test('a fault switched on in the page fires its alert, shown in the scenario and on the alerts page; bad input is refused', async (t) => {
    const flagsFile = suite.stack().summary.flagsFile!;
    const { page, errors } = await openPage(browser);
    await page.goto(`${url}/#/faults`);
    const row = page.locator('tr[data-fault="service-b.error-share"]');
    await row.waitFor({ timeout: 20_000 });

    // Bad input: refused with the server's problem, the flag file unchanged.
    const before = readFileSync(flagsFile, 'utf8');
    await row.locator('input.value').fill('7');
    await row.locator('button.switch-on').click();
    await page.locator('#fault-error').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#fault-error').innerText(), /at most 1/);
    assert.equal(readFileSync(flagsFile, 'utf8'), before, 'a refused switch leaves the flag file as it was');

    await row.locator('input.value').fill('1');
    await row.locator('button.switch-on').click();
    await page.locator('#scenario[data-fault="service-b.error-share"]').waitFor({ timeout: 10_000 });
    const flags = JSON.parse(readFileSync(flagsFile, 'utf8'));
    assert.equal(flags.flags['service-b.error-share'].defaultVariant, 'on');
    assert.equal(flags.flags['service-b.error-share'].variants.on, 1);

    // Traffic through service-a to service-b until the alert fires (bounded: 40 requests a second at most).
    const serviceA = suite.stack().url('service-a');
    let firing = false;
    const traffic = (async () => {
      for (const until = Date.now() + 180_000; !firing && Date.now() < until; ) {
        await Promise.all(Array.from({ length: 4 }, () => request(`${serviceA}/call-service-b`).catch(() => undefined)));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await poll('HighErrorRatio firing in the scenario', async () => ((await page.locator('#scenario-alert').getAttribute('data-state')) === 'firing' ? true : undefined), 180_000, 2000);
    } finally {
      firing = true;
      await traffic;
    }
    assert.match(await page.locator('#symptom-value').innerText(), /share of 5xx/);
    // The trace that shows the cause: service-b's failed span.
    await page.locator('#scenario-trace').waitFor({ timeout: 20_000 });
    t.diagnostic(`scenario: ${await screenshot(page, 'console-scenario')}`);

    await page.goto(`${url}/#/alerts`);
    await page.locator('#prom-alerts tr[data-alert="HighErrorRatio"].firing').first().waitFor({ timeout: 20_000 });
    const runbook = page.locator('#prom-alerts tr[data-alert="HighErrorRatio"] a').first();
    assert.equal(await runbook.getAttribute('href'), '/runbooks/HighErrorRatio.md');
    assert.equal((await request(`${url}/runbooks/HighErrorRatio.md`)).status, 200);
    t.diagnostic(`alerts: ${await screenshot(page, 'console-alerts')}`);

    // Switched off from the page again.
    await page.goto(`${url}/#/faults`);
    await page.locator('tr[data-fault="service-b.error-share"] button.switch-off').click();
    await poll('the flag is off in the file', async () => (JSON.parse(readFileSync(flagsFile, 'utf8')).flags['service-b.error-share'].defaultVariant === 'off' ? true : undefined), 10_000);
    // The refused switch logged a 400 in the console; anything else is an error of the page.
    assert.deepEqual(errors.filter((e) => !/status of 400/.test(e)), [], 'no other console error');
    await page.close();
  });

  test('after that traffic: the service graph draws the services with their rates and the call between them; the errors-only search lists only failed traces', async (t) => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${url}/#/graph`);
    for (const svc of ['service-a', 'service-b']) {
      const node = page.locator(`#service-graph g.node[data-service="${svc}"]`);
      await node.waitFor({ timeout: 30_000 });
      assert.ok(rateOf(await node.textContent(), 'req/s') > 0, `${svc} shows its request rate`);
    }
    // The call from service-a to service-b, from service-a's client spans in the span metrics.
    const edge = page.locator('#service-graph g.edge[data-from="service-a"][data-to="service-b"]');
    await poll('the call from service-a to service-b drawn', async () => ((await edge.count()) > 0 ? true : undefined), 30_000, 1000);
    assert.ok(rateOf(await edge.textContent(), 'calls/s') > 0, 'the call shows its rate');
    t.diagnostic(`graph: ${await screenshot(page, 'console-graph')}`);

    // service-b answered 500s during the scenario: the errors-only search shows those, and only those.
    await page.goto(`${url}/#/traces`);
    await page.locator('select[name="service"]').selectOption('service-b');
    await page.locator('input[name="errors"]').check();
    await page.locator('form.search button[type="submit"]').click();
    const table = page.locator('table.traces[data-errors-only="true"]');
    await poll('failed service-b traces listed by the errors-only search', async () => ((await table.locator('tbody tr.failed').count()) > 0 ? true : undefined), 30_000, 1000);
    const rows = await table.locator('tbody tr').count();
    assert.equal(await table.locator('tbody tr.failed').count(), rows, 'every listed trace failed');
    assert.deepEqual(errors, [], 'no console error');
    await page.close();
  });
});
