/**
 * OpenTelemetry for the hand-written peer, set up as the SDK's getting-started docs show, with no
 * tuning: loaded before the app (`node --require ./tracing.js server.js`), every auto-instrumentation
 * at its defaults, OTLP/HTTP protobuf traces through the default BatchSpanProcessor, configured by
 * the standard OTEL_* variables (endpoint, service name, sampler: parentbased_always_on).
 */
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { NodeSDK } from '@opentelemetry/sdk-node';

const sdk = new NodeSDK({
  traceExporter: new OTLPTraceExporter(),
  instrumentations: [getNodeAutoInstrumentations()],
});
sdk.start();

// The docs' graceful shutdown: flush the spans still queued, then exit.
process.on('SIGTERM', () => {
  sdk
    .shutdown()
    .catch((err: unknown) => console.error('error shutting down the OpenTelemetry SDK', err))
    .finally(() => process.exit(0));
});
