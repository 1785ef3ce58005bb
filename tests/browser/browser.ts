/**
 * Real Chromium for the browser tests: Debian's chromium (scripts/tools/install.sh chromium links it
 * as bin/chromium), driven by playwright-core. Every page a test opens collects its console errors
 * and uncaught exceptions, and screenshots go to .cache/test-output/screenshots/ (README: "See it
 * in a browser").
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { LocalStack, REPO_ROOT, toolPath } from '@meridian/test-kit';

export const SCREENSHOTS = path.join(REPO_ROOT, '.cache/test-output/screenshots');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: toolPath('chromium'),
    headless: true,
    // No sandbox: Chromium refuses to run one as root; the pages opened are the stack's, on 127.0.0.1.
    // No background networking: Chromium would otherwise call Google's services, unreachable here.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** A new page whose console errors and page errors are kept, for the test to assert none. */
export async function openPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return { page, errors };
}

/** Saves a full-page screenshot as <name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * The stack `npm start` runs and one Chromium for a suite: registers the before and after hooks
 * (start both; close the browser, stop the stack and expect `npm start` to exit 0).
 */
export function stackAndBrowser(): { stack: () => LocalStack; browser: () => Browser } {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  before(async () => {
    stack = await LocalStack.start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    const code = await stack?.stop();
    assert.equal(code, 0, `npm start exits 0 on Ctrl-C:\n${stack?.tail()}`);
  });
  return { stack: () => stack!, browser: () => browser! };
}
