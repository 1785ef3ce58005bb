/**
 * The real trace pipeline the SDK-on sides export to: the OpenTelemetry Collector with the
 * project's config, exporting to a real Jaeger v2, both on free loopback ports.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './paths';
import { freePorts, start, stop, Tracked, waitReady } from './procs';

export const TOOLS_BIN = path.join(process.env.MERIDIAN_TOOLS_DIR ?? path.join(os.homedir(), '.cache/meridian/tools'), 'bin');

export function tool(name: string): string {
  const p = path.join(TOOLS_BIN, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: run \`bash scripts/tools/install.sh\` (npm run bench does it first)`);
  return p;
}

export interface Pipeline {
  /** OTLP/HTTP base URL of the collector (the SDK appends /v1/traces). */
  otlpHttp: string;
  /** The collector's own metrics (Prometheus text). */
  collectorMetrics: string;
  collector: Tracked;
  jaeger: Tracked;
  stop(): Promise<void>;
}

/**
 * Jaeger keeps traces in memory; under saturating load at 100 % sampling its default (100,000
 * traces) would grow it by hundreds of MB during a benchmark, so the benches keep fewer.
 */
export const BENCH_JAEGER_MAX_TRACES = 20_000;

export async function startPipeline(): Promise<Pipeline> {
  const [grpc, http, edge, jaegerGrpc, jaegerHttp, jaegerUi, jaegerQueryGrpc, jaegerHealth, jaegerMetrics, prom, health, metrics] =
    await freePorts(12);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-'));
  const H = '127.0.0.1';
  const jaeger = start('jaeger', tool('jaeger'), ['--config', path.join(ROOT, 'observability/jaeger/config.yaml')], {
    cwd: dir,
    env: {
      JAEGER_HOST: H,
      JAEGER_OTLP_GRPC_PORT: String(jaegerGrpc),
      JAEGER_OTLP_HTTP_PORT: String(jaegerHttp),
      JAEGER_QUERY_HTTP_PORT: String(jaegerUi),
      JAEGER_QUERY_GRPC_PORT: String(jaegerQueryGrpc),
      JAEGER_HEALTH_PORT: String(jaegerHealth),
      JAEGER_METRICS_PORT: String(jaegerMetrics),
      JAEGER_MAX_TRACES: String(BENCH_JAEGER_MAX_TRACES),
      JAEGER_LOG_LEVEL: 'warn',
    },
  });
  const collector = start('collector', tool('otelcol'), ['--config', path.join(ROOT, 'observability/collector/config.yaml')], {
    cwd: dir,
    env: {
      COLLECTOR_OTLP_GRPC_ENDPOINT: `${H}:${grpc}`,
      COLLECTOR_OTLP_HTTP_ENDPOINT: `${H}:${http}`,
      EDGE_OTLP_HOST: H,
      EDGE_OTLP_PORT: String(edge),
      // The edge receiver is not used by the benches; the collector refuses to start without a token.
      EDGE_OTLP_TOKEN: 'bench-not-used',
      JAEGER_OTLP_ENDPOINT: `${H}:${jaegerGrpc}`,
      PROM_EXPORTER_ENDPOINT: `${H}:${prom}`,
      COLLECTOR_QUEUE_DIR: path.join(dir, 'collector-queue'),
      COLLECTOR_HEALTH_ENDPOINT: `${H}:${health}`,
      COLLECTOR_TELEMETRY_HOST: H,
      COLLECTOR_TELEMETRY_PORT: String(metrics),
      COLLECTOR_LOG_LEVEL: 'warn',
    },
  });
  const stopBoth = async () => {
    await stop(collector);
    await stop(jaeger);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = performance.now();
    await waitReady(jaeger, `http://${H}:${jaegerHealth}/status`, t0, 30_000, 100);
    await waitReady(collector, `http://${H}:${health}/`, t0, 30_000, 100);
  } catch (err) {
    await stopBoth();
    throw err;
  }
  return { otlpHttp: `http://${H}:${http}`, collectorMetrics: `http://${H}:${metrics}/metrics`, collector, jaeger, stop: stopBoth };
}

/** Sum of every sample of one metric (any labels) in Prometheus text; the name may lack `_total`. */
export function metricSum(text: string, name: string, labelFilter?: (labels: string) => boolean): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    if (m[1] !== name && m[1] !== `${name}_total`) continue;
    if (labelFilter && !labelFilter(m[2] ?? '')) continue;
    sum += Number(m[3]);
  }
  return sum;
}

export interface SpanCounters {
  accepted: number;
  refused: number;
  receiverFailed: number;
  sent: number;
  sendFailed: number;
  enqueueFailed: number;
}

/** The collector's own span counters (its telemetry port). */
export async function spanCounters(p: Pipeline): Promise<SpanCounters> {
  const text = await (await fetch(p.collectorMetrics, { signal: AbortSignal.timeout(5000) })).text();
  const jaegerOnly = (l: string) => l.includes('jaeger');
  return {
    accepted: metricSum(text, 'otelcol_receiver_accepted_spans'),
    refused: metricSum(text, 'otelcol_receiver_refused_spans'),
    receiverFailed: metricSum(text, 'otelcol_receiver_failed_spans'),
    sent: metricSum(text, 'otelcol_exporter_sent_spans', jaegerOnly),
    sendFailed: metricSum(text, 'otelcol_exporter_send_failed_spans', jaegerOnly),
    enqueueFailed: metricSum(text, 'otelcol_exporter_enqueue_failed_spans', jaegerOnly),
  };
}

export function counterDelta(a: SpanCounters, b: SpanCounters): SpanCounters {
  return {
    accepted: b.accepted - a.accepted,
    refused: b.refused - a.refused,
    receiverFailed: b.receiverFailed - a.receiverFailed,
    sent: b.sent - a.sent,
    sendFailed: b.sendFailed - a.sendFailed,
    enqueueFailed: b.enqueueFailed - a.enqueueFailed,
  };
}
