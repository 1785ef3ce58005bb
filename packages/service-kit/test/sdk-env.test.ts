// The OTEL_* variables the register module reads itself (src/telemetry/sdk-env.ts). The end-to-end
// proof, spans and log records reaching the real collector, Jaeger and VictoriaLogs, is
// tests/e2e/pipeline.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envDetector, hostDetector, processDetector } from '@opentelemetry/resources';
import { batchLogSettingsFromEnv, exporterFromEnv, otlpProtocol, propagatorFromEnv, resourceDetectorsFromEnv } from '../src/telemetry/sdk-env';

test('OTEL_PROPAGATORS: W3C trace context and baggage by default; a list; none; unknown names skipped', () => {
  assert.deepEqual(propagatorFromEnv({})?.fields().sort(), ['baggage', 'traceparent', 'tracestate']);
  assert.deepEqual(propagatorFromEnv({ OTEL_PROPAGATORS: ' ' })?.fields().sort(), ['baggage', 'traceparent', 'tracestate']);
  assert.deepEqual(propagatorFromEnv({ OTEL_PROPAGATORS: 'tracecontext' })?.fields().sort(), ['traceparent', 'tracestate']);
  assert.deepEqual(propagatorFromEnv({ OTEL_PROPAGATORS: 'B3, baggage' })?.fields().sort(), ['b3', 'baggage']);
  assert.ok(propagatorFromEnv({ OTEL_PROPAGATORS: 'b3multi' })?.fields().includes('x-b3-traceid'));
  assert.ok(propagatorFromEnv({ OTEL_PROPAGATORS: 'jaeger' })?.fields().includes('uber-trace-id'));
  assert.equal(propagatorFromEnv({ OTEL_PROPAGATORS: 'tracecontext,none' }), null);
  assert.deepEqual(propagatorFromEnv({ OTEL_PROPAGATORS: 'xray,baggage' })?.fields(), ['baggage']);
});

test('OTEL_NODE_RESOURCE_DETECTORS: env, process and host by default; all; none; a list', () => {
  assert.deepEqual(resourceDetectorsFromEnv({}), [envDetector, processDetector, hostDetector]);
  assert.equal(resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'all' }).length, 5);
  assert.deepEqual(resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'none' }), []);
  assert.deepEqual(resourceDetectorsFromEnv({ OTEL_NODE_RESOURCE_DETECTORS: 'env,nope' }), [envDetector]);
});

test('exporters: otlp, console or none, with a default per signal; the protocol per signal', (t) => {
  assert.equal(exporterFromEnv({}, 'OTEL_TRACES_EXPORTER', 'otlp'), 'otlp');
  assert.equal(exporterFromEnv({}, 'OTEL_LOGS_EXPORTER', 'none'), 'none');
  assert.equal(exporterFromEnv({ OTEL_LOGS_EXPORTER: 'otlp' }, 'OTEL_LOGS_EXPORTER', 'none'), 'otlp');
  assert.equal(exporterFromEnv({ OTEL_TRACES_EXPORTER: 'None' }, 'OTEL_TRACES_EXPORTER', 'otlp'), 'none');
  assert.equal(exporterFromEnv({ OTEL_TRACES_EXPORTER: 'console' }, 'OTEL_TRACES_EXPORTER', 'otlp'), 'console');
  // An unsupported exporter is said on stderr, and the default is used.
  const said: string[] = [];
  t.mock.method(process.stderr, 'write', (line: string) => said.push(line) > 0);
  assert.equal(exporterFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER', 'otlp'), 'otlp');
  assert.match(said.join(''), /OTEL_TRACES_EXPORTER=zipkin: only otlp, console and none are supported/);

  assert.equal(otlpProtocol('TRACES', {}), 'http/protobuf');
  assert.equal(otlpProtocol('TRACES', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }), 'grpc');
  assert.equal(otlpProtocol('LOGS', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json' }), 'http/json');
});

test('OTEL_BLRP_*: the batch log processor settings, unset or invalid left to its defaults', () => {
  assert.deepEqual(batchLogSettingsFromEnv({ OTEL_BLRP_SCHEDULE_DELAY: '500', OTEL_BLRP_MAX_QUEUE_SIZE: 'many', OTEL_BLRP_EXPORT_TIMEOUT: '-1' }), {
    maxQueueSize: undefined,
    scheduledDelayMillis: 500,
    exportTimeoutMillis: undefined,
    maxExportBatchSize: undefined,
  });
});
