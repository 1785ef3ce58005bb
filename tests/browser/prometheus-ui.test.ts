// Prometheus' own web UI (v3, built from source by scripts/tools/install.sh prometheus) in real
// Chromium, against the stack `npm start` runs: the targets page shows every scrape pool up, and the
// targets, rules, alerts and query pages load without a console error. Screenshots of each page go
// to .cache/test-output/screenshots/.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { poll, request } from '@meridian/test-kit';
import { openPage, screenshot, stackAndBrowser } from './browser';

describe('Prometheus UI in Chromium', { timeout: 300_000 }, () => {
  const suite = stackAndBrowser();
  let browser: Browser;
  let prometheus: string;
  before(() => {
    browser = suite.browser();
    prometheus = suite.stack().url('prometheus');
  });

  test('the targets page shows every scrape pool of the config, each with all its targets up', async (t) => {
    // What the API says first: every pool scraped at least once and up.
    const pools = await poll('every target up in the API', async () => {
      const r = (await request(`${prometheus}/api/v1/targets?state=active`)).json as { data: { activeTargets: { scrapePool: string; health: string }[] } };
      const all = r.data.activeTargets;
      return all.length > 0 && all.every((x) => x.health === 'up') ? [...new Set(all.map((x) => x.scrapePool))].sort() : undefined;
    }, 60_000);
    const { page, errors } = await openPage(browser);
    await page.goto(`${prometheus}/targets`);
    // Each pool is an accordion control reading "<pool><up> / <count> up".
    const shown = await poll('the page lists every pool', async () => {
      const texts = await page.locator('button.mantine-Accordion-control').allInnerTexts();
      const rows = texts.map((x) => /^(.+?)\s*(\d+) \/ (\d+) up$/s.exec(x.trim())).filter((m) => m !== null);
      return rows.length === pools.length ? rows.map((m) => ({ pool: m[1].trim(), up: Number(m[2]), count: Number(m[3]) })) : undefined;
    }, 30_000);
    assert.deepEqual(shown.map((x) => x.pool).sort(), pools, 'the page shows the pools of the config');
    for (const x of shown) assert.ok(x.count > 0 && x.up === x.count, `${x.pool}: ${x.up} / ${x.count} up on the page`);
    t.diagnostic(`targets page: ${shown.length} pools, all up; ${await screenshot(page, 'prometheus-targets')}`);
    assert.deepEqual(errors, [], 'no console error on the targets page');
    await page.close();
  });

  test('the rules, alerts and query pages load without a console error and show the repo\'s rule groups and alerts', async (t) => {
    const groups = ((await request(`${prometheus}/api/v1/rules`)).json as { data: { groups: { name: string; rules: { type: string; name: string }[] }[] } }).data.groups;
    assert.ok(groups.length > 0, 'the rules are loaded');
    const alerts = groups.flatMap((g) => g.rules.filter((r) => r.type === 'alerting').map((r) => r.name));
    // What each page must show once its app has drawn (the app polls, so the network never idles).
    const expected: Record<string, string[]> = {
      '/rules': groups.map((g) => g.name),
      '/alerts': alerts,
      '/query': ['Execute'],
    };
    for (const [path, words] of Object.entries(expected)) {
      const { page, errors } = await openPage(browser);
      await page.goto(`${prometheus}${path}`);
      await poll(`${path} shows ${words.length} names`, async () => {
        const text = await page.locator('body').innerText();
        return words.every((w) => text.includes(w)) ? true : undefined;
      }, 30_000);
      t.diagnostic(`${path}: ${words.length} names shown; ${await screenshot(page, `prometheus-${path.slice(1)}`)}`);
      assert.deepEqual(errors, [], `no console error on ${path}`);
      await page.close();
    }
  });
});
