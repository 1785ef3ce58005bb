// The console traces itself in the browser with the OpenTelemetry web SDK: the page load and every
// fetch, exported over OTLP/HTTP to the collector (whose CORS allows this origin). Fetches to the
// console's own server carry the trace context, which it passes to the edge: the fetch span of a
// click on "send an image to the edge" is the root of a trace that runs to the models.
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { DocumentLoadInstrumentation } from '@opentelemetry/instrumentation-document-load';
import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, WebTracerProvider } from '@opentelemetry/sdk-trace-web';

export async function startTelemetry(): Promise<void> {
  const config = (await (await fetch('/api/config', { signal: AbortSignal.timeout(5_000) })).json()) as { collectorOtlpHttp: string };
  const exporter = new OTLPTraceExporter({ url: `${config.collectorOtlpHttp}/v1/traces` });
  const provider = new WebTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'meridian-console', 'service.namespace': 'meridian', 'deployment.environment': 'local' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 })],
  });
  provider.register({ propagator: new W3CTraceContextPropagator() });
  registerInstrumentations({
    instrumentations: [
      new DocumentLoadInstrumentation(),
      // Same-origin calls get traceparent by default; the collector's own export is not traced.
      new FetchInstrumentation({ ignoreUrls: [new RegExp(`^${config.collectorOtlpHttp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`)] }),
    ],
  });
  addEventListener('pagehide', () => void provider.forceFlush());
}
