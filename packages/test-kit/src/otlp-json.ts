/**
 * What the tests send and configure for OTLP: the environment that points a service's trace
 * exporter somewhere, and OTLP/HTTP JSON trace requests built from a compact description.
 */

/** The OTEL_* variables that make a service export its spans to `endpoint` (an OTLP/HTTP base URL). */
export function otlpTracingEnv(endpoint: string, opts: { protocol?: 'http/json' | 'http/protobuf'; scheduleDelayMs?: number } = {}): Record<string, string> {
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: opts.protocol ?? 'http/json',
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: String(opts.scheduleDelayMs ?? 200),
  };
}

export interface OtlpSpanSpec {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 2 server, 3 client */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  /** Strings become stringValue, numbers intValue. */
  attributes?: Record<string, string | number>;
  status?: { code: number; message?: string };
}

const attribute = ([key, v]: [string, string | number]) => ({ key, value: typeof v === 'number' ? { intValue: String(v) } : { stringValue: v } });

/** The body of a POST /v1/traces (OTLP/HTTP JSON): per service.name, its spans. */
export function otlpTracesJson(services: Record<string, OtlpSpanSpec[]>, scope = 'meridian-tests'): { resourceSpans: unknown[] } {
  return {
    resourceSpans: Object.entries(services).map(([service, spans]) => ({
      resource: { attributes: [attribute(['service.name', service])] },
      scopeSpans: [
        {
          scope: { name: scope },
          spans: spans.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: String(s.startNs),
            endTimeUnixNano: String(s.endNs),
            attributes: Object.entries(s.attributes ?? {}).map(attribute),
            status: s.status ?? { code: 0 },
          })),
        },
      ],
    })),
  };
}
