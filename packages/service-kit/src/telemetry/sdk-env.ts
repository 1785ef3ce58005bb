/**
 * The parts of the SDK's standard OTEL_* configuration that the register module reads itself:
 * propagators, resource detectors, and the trace and log exporters by protocol. @opentelemetry/sdk-node
 * reads the same variables, but requires every exporter it knows (gRPC, Zipkin, the metrics SDK and
 * its exporters) when it loads: about 170 more modules, 6–7 MiB of resident memory and 80 ms of
 * start-up in each service. Each package here is required only when a variable asks for it. The
 * exporters read their own OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout).
 */
import { diag, type TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { envDetector, hostDetector, osDetector, processDetector, serviceInstanceIdDetector, type ResourceDetector } from '@opentelemetry/resources';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

type Env = NodeJS.ProcessEnv;

/** A comma-separated list variable, trimmed and lower-cased; undefined when unset or empty. */
export function listFromEnv(env: Env, name: string): string[] | undefined {
  const list = (env[name] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  return list.length ? list : undefined;
}

/**
 * OTEL_PROPAGATORS (default tracecontext,baggage): tracecontext, baggage, b3, b3multi, jaeger,
 * none. null means none; an unknown name is warned about and skipped, as the SDK does.
 */
export function propagatorFromEnv(env: Env = process.env): TextMapPropagator | null {
  const names = listFromEnv(env, 'OTEL_PROPAGATORS') ?? ['tracecontext', 'baggage'];
  if (names.includes('none')) return null;
  const propagators = names.flatMap((name): TextMapPropagator[] => {
    switch (name) {
      case 'tracecontext':
        return [new W3CTraceContextPropagator()];
      case 'baggage':
        return [new W3CBaggagePropagator()];
      case 'b3':
      case 'b3multi': {
        const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3') as typeof import('@opentelemetry/propagator-b3');
        return [new B3Propagator(name === 'b3multi' ? { injectEncoding: B3InjectEncoding.MULTI_HEADER } : {})];
      }
      case 'jaeger': {
        const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger') as typeof import('@opentelemetry/propagator-jaeger');
        return [new JaegerPropagator()];
      }
      default:
        diag.warn(`OTEL_PROPAGATORS: unknown propagator "${name}", skipped`);
        return [];
    }
  });
  return new CompositePropagator({ propagators });
}

const DETECTORS: Record<string, ResourceDetector> = {
  env: envDetector,
  host: hostDetector,
  os: osDetector,
  process: processDetector,
  serviceinstance: serviceInstanceIdDetector,
};

/** OTEL_NODE_RESOURCE_DETECTORS: unset = env, process, host (the SDK's default); all; none; or a list. */
export function resourceDetectorsFromEnv(env: Env = process.env): ResourceDetector[] {
  const names = listFromEnv(env, 'OTEL_NODE_RESOURCE_DETECTORS');
  if (!names) return [envDetector, processDetector, hostDetector];
  if (names.includes('none')) return [];
  if (names.includes('all')) return Object.values(DETECTORS);
  return names.flatMap((name) => {
    if (DETECTORS[name]) return [DETECTORS[name]];
    diag.warn(`OTEL_NODE_RESOURCE_DETECTORS: unknown detector "${name}", skipped`);
    return [];
  });
}

/** The OTLP protocol of a signal: its own variable, else OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
export function otlpProtocol(signal: 'TRACES' | 'LOGS', env: Env = process.env): string {
  return (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf').trim();
}

/** The OTLP span exporter of the configured protocol (grpc, http/json or http/protobuf). */
export function otlpSpanExporter(env: Env = process.env): SpanExporter {
  const protocol = otlpProtocol('TRACES', env);
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

/** The OTLP log exporter of the configured protocol. */
export function otlpLogExporter(env: Env = process.env): LogRecordExporter {
  const protocol = otlpProtocol('LOGS', env);
  if (protocol === 'grpc') {
    const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-grpc') as typeof import('@opentelemetry/exporter-logs-otlp-grpc');
    return new OTLPLogExporter();
  }
  if (protocol === 'http/json') {
    const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-http') as typeof import('@opentelemetry/exporter-logs-otlp-http');
    return new OTLPLogExporter();
  }
  const { OTLPLogExporter } = require('@opentelemetry/exporter-logs-otlp-proto') as typeof import('@opentelemetry/exporter-logs-otlp-proto');
  return new OTLPLogExporter();
}

/**
 * What OTEL_<SIGNAL>_EXPORTER asks for, from the values this suite supports: `otlp`, `console` or
 * none (`none`, or unset where the default is none). An unsupported value is said once on stderr
 * and treated as the default.
 */
export function exporterFromEnv(env: Env, name: 'OTEL_TRACES_EXPORTER' | 'OTEL_LOGS_EXPORTER', fallback: 'otlp' | 'none'): 'otlp' | 'console' | 'none' {
  const list = listFromEnv(env, name);
  if (!list) return fallback;
  if (list.includes('none')) return 'none';
  const known = list.filter((v): v is 'otlp' | 'console' => v === 'otlp' || v === 'console');
  if (known.length < list.length) process.stderr.write(`telemetry: ${name}=${env[name]}: only otlp, console and none are supported here; using ${known[0] ?? fallback}\n`);
  return known[0] ?? fallback;
}

/** A non-negative number variable; undefined when unset or not such a number. */
function numberFromEnv(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** The batch log processor's OTEL_BLRP_* settings (the batch span processor reads OTEL_BSP_* itself). */
export function batchLogSettingsFromEnv(env: Env = process.env): {
  maxQueueSize?: number;
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
  maxExportBatchSize?: number;
} {
  return {
    maxQueueSize: numberFromEnv(env, 'OTEL_BLRP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: numberFromEnv(env, 'OTEL_BLRP_SCHEDULE_DELAY'),
    exportTimeoutMillis: numberFromEnv(env, 'OTEL_BLRP_EXPORT_TIMEOUT'),
    maxExportBatchSize: numberFromEnv(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE'),
  };
}
