/**
 * Starts the OpenTelemetry SDK before the application is loaded:
 *   node --require @meridian/service-kit/register dist/src/main.js
 * Configured by the standard OTEL_* variables (endpoint, protocol, sampler, exporters, propagators).
 * OTEL_SDK_DISABLED=true leaves the SDK out entirely.
 */
import { diag, DiagConsoleLogger } from '@opentelemetry/api';
import { diagLogLevelFromString } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { detectResources } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { runtimeConfig } from '../runtime-config';
import { BaggageSpanProcessor } from './baggage-span-processor';
import { buildInstrumentations } from './instrumentations';
import { contractResource } from './resource';
import { batchLogSettingsFromEnv, exporterFromEnv, otlpLogExporter, otlpSpanExporter, propagatorFromEnv, resourceDetectorsFromEnv } from './sdk-env';
import { setTelemetryShutdown } from './shutdown';
import { SpanBuffer, spanBufferMetrics } from './span-buffer';

/** The exporter behind a bounded buffer that rides out collector outages (span-buffer.ts). */
function bufferedExporter(maxSpans: number, shutdownMs: number): SpanExporter {
  let buffer: SpanBuffer | undefined;
  const counters = spanBufferMetrics(() => buffer);
  buffer = new SpanBuffer(otlpSpanExporter(), {
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
  const env = process.env;
  const logLevel = env.OTEL_LOG_LEVEL;
  if (logLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(logLevel) });
  // The contract's attributes, then the detected ones (OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME
  // among them) over them, as the SDK merges them.
  const resource = contractResource().merge(detectResources({ detectors: resourceDetectorsFromEnv(env) }));

  // 3 s, or half the shutdown bound if that is less, so the rest of a graceful shutdown still fits in it.
  const shutdownMs = Math.min(3000, runtime.SHUTDOWN_TIMEOUT_MS / 2);
  const traces = exporterFromEnv(env, 'OTEL_TRACES_EXPORTER', 'otlp');
  const spanExporter: SpanExporter | undefined =
    traces === 'otlp' ? bufferedExporter(runtime.TELEMETRY_BUFFER_MAX_SPANS, shutdownMs) : traces === 'console' ? new ConsoleSpanExporter() : undefined;
  // The baggage processor runs first so attributes are on the span before it is exported. The
  // batch processor reads OTEL_BSP_*, the provider OTEL_TRACES_SAMPLER(_ARG) and the span limits.
  const spanProcessors: SpanProcessor[] = spanExporter ? [new BaggageSpanProcessor(), new BatchSpanProcessor(spanExporter)] : [];
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  // The AsyncLocalStorage context manager, and the propagators of OTEL_PROPAGATORS (null: none).
  const propagator = propagatorFromEnv(env);
  tracerProvider.register({ propagator });

  // Logs go to stdout through pino; also as OTLP log records when OTEL_LOGS_EXPORTER asks for them.
  const shutdowns: (() => Promise<void>)[] = [() => tracerProvider.shutdown()];
  const logsTo = exporterFromEnv(env, 'OTEL_LOGS_EXPORTER', 'none');
  if (logsTo !== 'none') {
    const { logs } = require('@opentelemetry/api-logs') as typeof import('@opentelemetry/api-logs');
    const sdkLogs = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
    const exporter = logsTo === 'otlp' ? otlpLogExporter(env) : new sdkLogs.ConsoleLogRecordExporter();
    const loggerProvider = new sdkLogs.LoggerProvider({ resource, processors: [new sdkLogs.BatchLogRecordProcessor({ exporter, ...batchLogSettingsFromEnv(env) })] });
    logs.setGlobalLoggerProvider(loggerProvider);
    shutdowns.push(() => loggerProvider.shutdown());
  }
  // Metrics are served in Prometheus format at /metrics by the app, not through the SDK.
  const metrics = (env.OTEL_METRICS_EXPORTER ?? '').trim();
  if (metrics && metrics.toLowerCase() !== 'none') {
    process.stderr.write(`telemetry: OTEL_METRICS_EXPORTER=${metrics} is ignored: metrics are served in Prometheus format at /metrics\n`);
  }

  registerInstrumentations({ instrumentations: buildInstrumentations(), tracerProvider });
  setTelemetryShutdown(async () => {
    await Promise.all(shutdowns.map((fn) => fn()));
  });
}

start();
