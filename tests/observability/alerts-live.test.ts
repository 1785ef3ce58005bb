import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { LocalStack, request } from '@meridian/test-kit';

/**
 * Alerts fire on the running local stack: the real Prometheus evaluates the repo's rules and the real
 * Alertmanager delivers to the local webhook sink of `npm start`.
 */

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, onTick?: () => Promise<void>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    await onTick?.();
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('alerts on the live local stack', () => {
  let stack: LocalStack;

  const firing = async (alertname: string, job: string) => {
    const res = await request(`${stack.url('prometheus')}/api/v1/alerts`);
    const alerts = (res.json?.data?.alerts ?? []) as PromAlert[];
    return alerts.some((a) => a.labels.alertname === alertname && a.labels.job === job && a.state === 'firing') ? true : undefined;
  };
  const delivered = async (alertname: string, job: string) => {
    if (!existsSync(stack.summary.alertsFile)) return undefined;
    const lines = readFileSync(stack.summary.alertsFile, 'utf8').split('\n').filter(Boolean);
    return lines.some((l) =>
      (JSON.parse(l).alerts as { status: string; labels: Record<string, string> }[]).some(
        (a) => a.status === 'firing' && a.labels.alertname === alertname && a.labels.job === job,
      ),
    )
      ? true
      : undefined;
  };

  before(async () => {
    stack = await LocalStack.start();
  });
  after(async () => {
    await stack?.stop();
  });

  test('crashing service-a three times fires ServiceRestarting, delivered to the webhook', { timeout: 240_000 }, async (t) => {
    const a = stack.url('service-a');
    // Each restart must be scraped once (its new process_start_time_seconds), or changes() misses it.
    const scrapedStart = async () => {
      const res = await request(`${stack.url('prometheus')}/api/v1/query?query=${encodeURIComponent('process_start_time_seconds{job="service-a"}')}`);
      return res.json?.data?.result?.[0]?.value?.[1] as string | undefined;
    };
    let start = await poll('service-a scraped', scrapedStart, 60_000);
    for (let i = 1; i <= 3; i++) {
      const res = await request(`${a}/crash`);
      assert.equal(res.status, 202, `crash ${i}: ${res.text}`);
      // The runner restarts it with back-off, as a kubelet would; wait until Prometheus saw the new process.
      const before = start;
      start = await poll(`service-a restarted and scraped after crash ${i}`, async () => {
        const now = await scrapedStart();
        return now !== undefined && now !== before ? now : undefined;
      }, 90_000);
    }
    const t0 = Date.now();
    await poll('ServiceRestarting firing for service-a in Prometheus', () => firing('ServiceRestarting', 'service-a'), 90_000);
    await poll('ServiceRestarting for service-a at the webhook', () => delivered('ServiceRestarting', 'service-a'), 60_000);
    t.diagnostic(`ServiceRestarting fired and was delivered ${((Date.now() - t0) / 1000).toFixed(0)} s after the third restart`);
  });

  test('a burst of /serverError fires HighErrorRatio, delivered to the webhook', { timeout: 240_000 }, async (t) => {
    const a = stack.url('service-a');
    const t0 = Date.now();
    // Keep the errors coming until the alert fires: the rule wants a sustained ratio, not one spike.
    const burst = async () => {
      await Promise.all(Array.from({ length: 4 }, () => request(`${a}/serverError`, {}, 2000).catch(() => undefined)));
    };
    await poll('HighErrorRatio firing for service-a in Prometheus', () => firing('HighErrorRatio', 'service-a'), 150_000, burst);
    await poll('HighErrorRatio for service-a at the webhook', () => delivered('HighErrorRatio', 'service-a'), 60_000);
    t.diagnostic(`HighErrorRatio fired and was delivered ${((Date.now() - t0) / 1000).toFixed(0)} s after the burst began`);
  });
});
