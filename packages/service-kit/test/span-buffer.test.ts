// The span buffer on its own, with a scripted exporter behind it. The end-to-end proof (real
// collector, nginx and Jaeger going away under load) is tests/faults/telemetry-outages.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { isPermanentRejection, SpanBuffer, type DropReason } from '../src/telemetry/span-buffer';

/** What the OTLP/HTTP exporter fails with on an HTTP answer: an Error with the status as `code`. */
const httpError = (message: string, status: number) => Object.assign(new Error(message), { code: status });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spans = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ name: `s${from + i}` }) as unknown as ReadableSpan);

/** Answers each export as `answer` says at that moment, and records what it was given. */
class ScriptedExporter implements SpanExporter {
  received: string[] = [];
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  answer: () => ExportResult = () => ({ code: ExportResultCode.SUCCESS });
  export(batch: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    setTimeout(() => {
      this.inFlight--;
      const r = this.answer();
      if (r.code === ExportResultCode.SUCCESS) this.received.push(...batch.map((s) => s.name));
      done(r);
    }, 2);
  }
  async shutdown(): Promise<void> {}
}

function setup(maxSpans: number) {
  const inner = new ScriptedExporter();
  const dropped: Record<string, number> = {};
  let exported = 0;
  const buffer = new SpanBuffer(inner, {
    maxSpans,
    batchSize: 10,
    retryMinMs: 5,
    retryMaxMs: 20,
    onDrop: (reason: DropReason, n: number) => (dropped[reason] = (dropped[reason] ?? 0) + n),
    onExported: (n) => (exported += n),
  });
  const give = (batch: ReadableSpan[]) =>
    new Promise<ExportResult>((resolve) => buffer.export(batch, resolve)).then((r) => assert.equal(r.code, ExportResultCode.SUCCESS));
  return { inner, buffer, dropped, give, exported: () => exported };
}

test('an unreachable receiver loses nothing within the bound: every span arrives, in order, one request at a time', async () => {
  const { inner, buffer, dropped, give, exported } = setup(1000);
  inner.answer = () => ({ code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED') });
  for (let i = 0; i < 30; i++) await give(spans(i * 10, 10));
  await sleep(60);
  assert.equal(buffer.size, 300, 'held while the receiver is away');
  assert.ok(inner.calls > 1, 'and retried');
  inner.answer = () => ({ code: ExportResultCode.SUCCESS });
  await buffer.forceFlush(2000);
  assert.equal(buffer.size, 0);
  assert.deepEqual(inner.received, spans(0, 300).map((s) => s.name));
  assert.equal(exported(), 300);
  assert.deepEqual(dropped, {});
  assert.equal(inner.maxInFlight, 1);
});

test('past the bound the oldest spans are dropped and counted as buffer_full', async () => {
  const { inner, buffer, dropped, give } = setup(50);
  inner.answer = () => ({ code: ExportResultCode.FAILED, error: new Error('timeout') });
  for (let i = 0; i < 8; i++) await give(spans(i * 10, 10));
  assert.equal(buffer.size, 50);
  assert.equal(dropped.buffer_full, 30);
  inner.answer = () => ({ code: ExportResultCode.SUCCESS });
  await buffer.forceFlush(2000);
  assert.equal(inner.received.length, 50, 'as many arrive as the bound holds');
  assert.equal(inner.received.length + dropped.buffer_full, 80, 'every span is either delivered or counted');
  // The batch on the wire when the bound was hit is kept; the rest of what arrives is the newest.
  assert.deepEqual(inner.received.slice(-40), spans(40, 40).map((s) => s.name));
});

test('a batch refused for good (401) is dropped and counted as rejected; the rest still flows', async () => {
  const { inner, buffer, dropped, give } = setup(100);
  let first = true;
  inner.answer = () => {
    if (!first) return { code: ExportResultCode.SUCCESS };
    first = false;
    return { code: ExportResultCode.FAILED, error: httpError('Unauthorized', 401) };
  };
  await give(spans(0, 10));
  await give(spans(10, 10));
  await buffer.forceFlush(2000);
  assert.equal(dropped.rejected, 10);
  assert.deepEqual(inner.received, spans(10, 10).map((s) => s.name));
});

test('shutdown waits for the receiver within its bound, then counts what is left as lost', async () => {
  const { inner, buffer, dropped, give } = setup(100);
  inner.answer = () => ({ code: ExportResultCode.FAILED, error: new Error('ECONNREFUSED') });
  await give(spans(0, 25));
  const started = Date.now();
  await buffer.shutdown(100);
  assert.ok(Date.now() - started < 1000, 'bounded');
  assert.equal(dropped.shutdown, 25);
  assert.equal(buffer.size, 0);
  await new Promise<void>((resolve) => buffer.export(spans(25, 5), () => resolve()));
  assert.equal(dropped.shutdown, 30, 'spans after shutdown are counted too');
});

test('which failures are permanent', () => {
  assert.equal(isPermanentRejection(httpError('Unauthorized', 401)), true);
  assert.equal(isPermanentRejection(httpError('Bad Request', 400)), true);
  assert.equal(isPermanentRejection(httpError('Too Many Requests', 429)), false);
  assert.equal(isPermanentRejection(httpError('Request Timeout', 408)), false);
  assert.equal(isPermanentRejection(httpError('Bad Gateway', 502)), false);
  assert.equal(isPermanentRejection(Object.assign(new Error('unavailable'), { code: 14 })), false, 'gRPC UNAVAILABLE');
  assert.equal(isPermanentRejection(new Error('ECONNREFUSED')), false);
  assert.equal(isPermanentRejection(undefined), false);
});
