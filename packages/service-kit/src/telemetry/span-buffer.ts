/**
 * A bounded buffer between the SDK's batch processor and the OTLP exporter, so an unreachable
 * collector (or edge ingress) costs no spans until the bound is reached, and every span lost past
 * it is counted.
 *
 * The batch processor hands spans over and moves on at once; one export at a time drains the
 * buffer in order, and a failed export is retried with backoff instead of being thrown away (the
 * OTLP exporter alone gives up after its own timeout, about 10 s). One request at a time also
 * means a backend that comes back is not flooded with the backlog.
 *
 * What is lost is counted in telemetry_spans_dropped_total{reason}:
 *   buffer_full  the buffer held TELEMETRY_BUFFER_MAX_SPANS spans: the oldest are dropped
 *   rejected     the receiver refused the batch for good (4xx other than 408/429: bad token, ...)
 *   shutdown     still buffered when the process had to exit
 */
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { Counter, Gauge, register } from 'prom-client';

export type DropReason = 'buffer_full' | 'rejected' | 'shutdown';

export interface SpanBufferOptions {
  /** Most spans held while the receiver is unreachable. */
  maxSpans: number;
  /** Spans per export request. */
  batchSize?: number;
  /** First wait after a failed export; doubled each time up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How long shutdown() may try to send what is left (default 3 s). */
  shutdownTimeoutMs?: number;
  /** Called for every loss, e.g. to count it. */
  onDrop?: (reason: DropReason, spans: number) => void;
  /** Called after every export that reached the receiver. */
  onExported?: (spans: number) => void;
}

/** True when the receiver refused the data for good, so retrying it cannot help. */
export function isPermanentRejection(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' && code >= 400 && code < 500 && code !== 408 && code !== 429;
}

export class SpanBuffer implements SpanExporter {
  private readonly queue: ReadableSpan[] = [];
  /** The batch being sent: not dropped while it is on the wire, put back in front if it fails. */
  private inFlight: ReadableSpan[] = [];
  private readonly batchSize: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private backoffMs = 0;
  private draining = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeRetry: (() => void) | undefined;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly inner: SpanExporter,
    private readonly options: SpanBufferOptions,
  ) {
    this.batchSize = options.batchSize ?? 512;
    this.retryMinMs = options.retryMinMs ?? 250;
    this.retryMaxMs = options.retryMaxMs ?? 5000;
  }

  /** Spans waiting to be sent. */
  get size(): number {
    return this.queue.length + this.inFlight.length;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      this.drop('shutdown', spans.length);
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('span buffer is shut down') });
      return;
    }
    this.queue.push(...spans);
    this.trim();
    resultCallback({ code: ExportResultCode.SUCCESS });
    void this.drain();
  }

  /** Resolves when the buffer is empty, or after timeoutMs (the buffer keeps its spans then). */
  async forceFlush(timeoutMs = 30_000): Promise<void> {
    this.retryNow();
    await this.whenIdle(timeoutMs);
    await this.inner.forceFlush?.();
  }

  /** Sends what it can within timeoutMs, the exporter's own shutdown included; what is still buffered then is counted as lost. */
  async shutdown(timeoutMs = this.options.shutdownTimeoutMs ?? 3_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.retryNow();
    await this.whenIdle(timeoutMs);
    this.stopped = true;
    clearTimeout(this.retryTimer);
    // A batch still on the wire counts as lost too: the process exits before its answer.
    this.drop('shutdown', this.size);
    this.queue.splice(0);
    this.inFlight = [];
    // The exporter waits for its request in flight, which may retry for its own 10 s: not longer than the bound.
    let timer: NodeJS.Timeout | undefined;
    const left = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
    await Promise.race([this.inner.shutdown(), left]);
    clearTimeout(timer);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 && !this.stopped) {
        const batch = this.queue.splice(0, this.batchSize);
        this.inFlight = batch;
        const result = await new Promise<ExportResult>((resolve) => this.inner.export(batch, resolve));
        this.inFlight = [];
        if (this.stopped) break;
        if (result.code === ExportResultCode.SUCCESS) {
          this.options.onExported?.(batch.length);
          this.backoffMs = 0;
          continue;
        }
        if (isPermanentRejection(result.error)) {
          this.drop('rejected', batch.length);
          this.backoffMs = 0;
          continue;
        }
        this.queue.unshift(...batch);
        this.trim();
        this.backoffMs = Math.min(Math.max(this.backoffMs * 2, this.retryMinMs), this.retryMaxMs);
        await new Promise<void>((resolve) => {
          this.wakeRetry = resolve;
          this.retryTimer = setTimeout(resolve, this.backoffMs);
          // A pending retry must not keep the process alive on its own.
          this.retryTimer.unref();
        });
        this.wakeRetry = undefined;
      }
    } finally {
      this.draining = false;
      if (this.size === 0 || this.stopped) this.idleWaiters.splice(0).forEach((w) => w());
    }
  }

  /** Keeps at most maxSpans: the oldest go first, since what happens now is what an operator looks at. */
  private trim(): void {
    const over = Math.min(this.size - this.options.maxSpans, this.queue.length);
    if (over <= 0) return;
    this.queue.splice(0, over);
    this.drop('buffer_full', over);
  }

  private retryNow(): void {
    clearTimeout(this.retryTimer);
    this.wakeRetry?.();
  }

  private whenIdle(timeoutMs: number): Promise<void> {
    if (this.size === 0 && !this.draining) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.idleWaiters.push(done);
    });
  }

  private drop(reason: DropReason, spans: number): void {
    if (spans > 0) this.options.onDrop?.(reason, spans);
  }
}

/** The buffer's Prometheus series, served at each service's /metrics with the others. */
export function spanBufferMetrics(buffer: () => SpanBuffer | undefined): Pick<SpanBufferOptions, 'onDrop' | 'onExported'> {
  const dropped =
    (register.getSingleMetric('telemetry_spans_dropped_total') as Counter<'reason'> | undefined) ??
    new Counter({
      name: 'telemetry_spans_dropped_total',
      help: 'Spans this process lost before they reached the collector, by reason (buffer_full, rejected, shutdown)',
      labelNames: ['reason'],
    });
  const exported =
    (register.getSingleMetric('telemetry_spans_exported_total') as Counter | undefined) ??
    new Counter({ name: 'telemetry_spans_exported_total', help: 'Spans this process handed to the collector' });
  if (!register.getSingleMetric('telemetry_span_buffer_spans')) {
    new Gauge({
      name: 'telemetry_span_buffer_spans',
      help: 'Spans waiting in this process for the collector to be reachable',
      collect() {
        this.set(buffer()?.size ?? 0);
      },
    });
  }
  // Every reason starts at 0, so an alert on increase() sees the first loss.
  for (const reason of ['buffer_full', 'rejected', 'shutdown'] as const) dropped.inc({ reason }, 0);
  return {
    onDrop: (reason, spans) => dropped.inc({ reason }, spans),
    onExported: (spans) => exported.inc(spans),
  };
}
