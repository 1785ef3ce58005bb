// Alertmanager's own web UI (v0.28, built from its module by scripts/tools/install.sh
// alertmanager) in real Chromium, against the stack `npm start` runs: the alerts page draws, and an
// alert posted to Alertmanager's API v2 appears on it with its labels. Screenshot in
// .cache/test-output/screenshots/.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { request, poll } from '@meridian/test-kit';
import { openPage, screenshot, stackAndBrowser } from './browser';

describe('Alertmanager UI in Chromium', { timeout: 300_000 }, () => {
  const suite = stackAndBrowser();
  let browser: Browser;
  let alertmanager: string;
  before(() => {
    browser = suite.browser();
    alertmanager = suite.stack().url('alertmanager');
  });

  test('an alert sent to the API v2 is shown on the alerts page, which loads without a console error', async (t) => {
    const name = `BrowserTestAlert${Date.now()}`;
    const res = await request(`${alertmanager}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels: { alertname: name, severity: 'info', service: 'browser-test' }, annotations: { summary: 'shown in the UI' } }]),
    });
    assert.equal(res.status, 200, res.text);
    const { page, errors } = await openPage(browser);
    await page.goto(`${alertmanager}/#/alerts`);
    await poll(`the alerts page shows ${name}`, async () => ((await page.locator('body').innerText()).includes(name) ? true : undefined), 30_000);
    t.diagnostic(`alerts page shows ${name}; ${await screenshot(page, 'alertmanager-alerts')}`);
    assert.deepEqual(errors, [], 'no console error on the alerts page');
    await page.close();
  });
});
