/**
 * Starts the OpenTelemetry SDK before the application is loaded:
 *   node --require @meridian/service-kit/register dist/src/main.js
 * Configured by the standard OTEL_* variables (endpoint, protocol, sampler, exporters, propagators).
 * OTEL_SDK_DISABLED=true leaves the SDK out entirely.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { runtimeConfig } from '../runtime-config';
import { BaggageSpanProcessor } from './baggage-span-processor';
import { buildInstrumentations } from './instrumentations';
import { contractResource } from './resource';
import { setTelemetryShutdown } from './shutdown';
import { SpanBuffer, spanBufferMetrics } from './span-buffer';

/** Requires only the exporter of the configured protocol (@opentelemetry/sdk-node 0.223 still loads every exporter for its own env handling). */
function traceExporter(): SpanExporter {
  const protocol =
    process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol === 'grpc') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc') as typeof import('@opentelemetry/exporter-trace-otlp-grpc');
    return new OTLPTraceExporter();
  }
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter();
  }
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}

/** The exporter behind a bounded buffer that rides out collector outages (span-buffer.ts). */
function bufferedExporter(maxSpans: number, shutdownMs: number): SpanExporter {
  let buffer: SpanBuffer | undefined;
  const counters = spanBufferMetrics(() => buffer);
  buffer = new SpanBuffer(traceExporter(), {
    maxSpans,
    shutdownTimeoutMs: shutdownMs,
    onExported: counters.onExported,
    onDrop(reason, spans) {
      counters.onDrop?.(reason, spans);
      // Nothing scrapes /metrics after exit: the last loss is said on stderr.
      if (reason === 'shutdown') process.stderr.write(`telemetry: ${spans} spans still buffered at shutdown were lost (collector unreachable)\n`);
    },
  });
  return buffer;
}

function start(): void {
  if ((process.env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return;
  let runtime;
  try {
    runtime = runtimeConfig();
  } catch {
    // A bad setting: the service stops at startup with the one line that names it (startService).
    return;
  }
  const tracesOff = (process.env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none';
  // 3 s, or half the shutdown bound if that is less, so the rest of a graceful shutdown still fits in it.
  const exporter = () => bufferedExporter(runtime.TELEMETRY_BUFFER_MAX_SPANS, Math.min(3000, runtime.SHUTDOWN_TIMEOUT_MS / 2));
  // The baggage processor runs first so attributes are on the span before it is exported.
  const spanProcessors = tracesOff ? [] : [new BaggageSpanProcessor(), new BatchSpanProcessor(exporter())];
  // Metrics are served in Prometheus format at /metrics by the app; the SDK's OTLP metrics stay off
  // unless OTEL_METRICS_EXPORTER asks for them.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  // Logs go to stdout through pino; OTLP logs only when OTEL_LOGS_EXPORTER=otlp.
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    resource: contractResource(),
    spanProcessors,
    instrumentations: buildInstrumentations(),
  });
  sdk.start();
  setTelemetryShutdown(() => sdk.shutdown());
}

start();
