import { barGauge, dashboard, datasourceVariable, q, stat, THRESHOLD, timeseries, UNIT, type PromQuery } from '../grafana';
import { average, rate, sumBy, totalRate, zeroIfAbsent } from '../promql';

// The collector's own metrics (service::telemetry::metrics, job otel-collector), with the names the
// pinned collector (v0.161) exposes on its Prometheus endpoint: counters WITHOUT a `_total` suffix
// (otelcol_receiver_accepted_spans, otelcol_exporter_sent_spans, otelcol_process_cpu_seconds, ...).
// Some counters only appear after their first event (an exporter's first failure, the memory
// limiter's first refusal): those panels fall back to 0 per exporter/signal instead of "No data".

const SIGNALS = [
  { suffix: 'spans', name: 'spans' },
  { suffix: 'metric_points', name: 'metric points' },
  { suffix: 'log_records', name: 'log records' },
] as const;

/** 0 while the collector is scraped, nothing when it is not. */
const ALIVE = '0 * sum(otelcol_process_uptime)';
const SUFFIXES = SIGNALS.map((s) => s.suffix);
const REFUSED = SUFFIXES.map((s) => `otelcol_receiver_refused_${s}`);
const EXPORT_FAILED = ['send', 'enqueue'].flatMap((k) => SUFFIXES.map((s) => `otelcol_exporter_${k}_failed_${s}`));

/** One query per signal, e.g. perSignal('otelcol_receiver_accepted', ['receiver']). */
function perSignal(metric: string, by: string[], legend: string): PromQuery[] {
  return SIGNALS.map((s) => q(sumBy(by, rate(`${metric}_${s.suffix}`)), `${s.name} ${legend}`));
}

/** Same, 0 for each series of `reference` (same signal) while `metric` does not exist yet. */
function perSignalOrZero(metric: string, reference: string, by: string[], legend: string): PromQuery[] {
  return SIGNALS.map((s) =>
    q(zeroIfAbsent(sumBy(by, rate(`${metric}_${s.suffix}`)), sumBy(by, rate(`${reference}_${s.suffix}`))), `${s.name} ${legend}`),
  );
}

export const collector = dashboard({
  uid: 'meridian-collector',
  title: 'Meridian collector',
  description:
    'The OpenTelemetry Collector itself: what each receiver accepted or refused, what each exporter sent or lost, sending queues, the memory limiter, batches, and the process.',
  tags: ['meridian'],
  variables: [datasourceVariable('datasource', 'prometheus', 'Prometheus')],
  rows: [
    {
      title: 'Overview',
      panels: [
        stat({
          title: 'Spans accepted/s',
          description: 'Spans accepted per second by all receivers.',
          queries: [q(sumBy([], rate('otelcol_receiver_accepted_spans')))],
          unit: UNIT.ops,
          sparkline: true,
          decimals: 1,
        }),
        stat({
          title: 'Log records accepted/s',
          description: 'Log records accepted per second by all receivers.',
          queries: [q(sumBy([], rate('otelcol_receiver_accepted_log_records')))],
          unit: UNIT.ops,
          sparkline: true,
          decimals: 1,
        }),
        stat({
          title: 'Refused items/s',
          description: 'Spans, metric points and log records refused by receivers ("retry later": the memory limiter pushing back). CollectorRefusingTelemetry fires on any.',
          queries: [q(totalRate(REFUSED, ALIVE))],
          unit: UNIT.ops,
          thresholds: THRESHOLD.anyLoss,
          colorMode: 'background',
          sparkline: true,
        }),
        stat({
          title: 'Export failures/s',
          description: 'Items exporters failed to send (after retries) or could not queue. CollectorDroppingTelemetry fires on any.',
          queries: [q(totalRate(EXPORT_FAILED, ALIVE))],
          unit: UNIT.ops,
          thresholds: THRESHOLD.anyLoss,
          colorMode: 'background',
          sparkline: true,
        }),
      ],
    },
    {
      title: 'Receivers',
      panels: [
        timeseries({
          title: 'Accepted per receiver',
          description:
            'Items accepted per second by each receiver (otlp: in-cluster services; otlp/edge: edge telemetry through the ingress). Meridian\'s services expose their metrics for scraping, so metric points only show when something pushes OTLP metrics.',
          queries: perSignal('otelcol_receiver_accepted', ['receiver'], '{{receiver}}'),
          unit: UNIT.ops,
          min: 0,
        }),
        timeseries({
          title: 'Refused and failed per receiver',
          description: 'Items refused ("retry later", e.g. memory limiter) and failed (an error downstream) per second, by receiver. Anything above 0 loses or delays telemetry.',
          queries: [
            ...perSignal('otelcol_receiver_refused', ['receiver'], 'refused {{receiver}}'),
            ...perSignal('otelcol_receiver_failed', ['receiver'], 'failed {{receiver}}'),
          ],
          unit: UNIT.ops,
          thresholds: THRESHOLD.anyLoss,
          min: 0,
        }),
      ],
    },
    {
      title: 'Exporters',
      panels: [
        timeseries({
          title: 'Sent per exporter',
          description: 'Items sent per second by each exporter (otlp_grpc/jaeger: traces to Jaeger; prometheus: span metrics for scraping; otlp_http/logs: logs to VictoriaLogs; file/logs: the log file, in the cluster).',
          queries: perSignal('otelcol_exporter_sent', ['exporter'], '{{exporter}}'),
          unit: UNIT.ops,
          min: 0,
        }),
        timeseries({
          title: 'Failed per exporter',
          description: 'Items lost per second by each exporter: sending failed after retries, or the queue was full (enqueue failed). 0 until the first failure.',
          queries: [
            ...perSignalOrZero('otelcol_exporter_send_failed', 'otelcol_exporter_sent', ['exporter'], 'send failed {{exporter}}'),
            ...perSignalOrZero('otelcol_exporter_enqueue_failed', 'otelcol_exporter_sent', ['exporter'], 'enqueue failed {{exporter}}'),
          ],
          unit: UNIT.ops,
          thresholds: THRESHOLD.anyLoss,
          min: 0,
        }),
        timeseries({
          title: 'Sending queue size and capacity',
          description: 'Batches waiting in each exporter\'s sending queue, and the queue\'s capacity. A queue that stays full means the backend is slow or gone.',
          queries: [
            q('max by (exporter) (otelcol_exporter_queue_size)', 'size {{exporter}}'),
            q('max by (exporter) (otelcol_exporter_queue_capacity)', 'capacity {{exporter}}'),
          ],
          unit: UNIT.count,
          min: 0,
          overrides: [{ queries: [1], properties: [{ id: 'custom.lineStyle', value: { dash: [10, 10], fill: 'dash' } }, { id: 'custom.fillOpacity', value: 0 }] }],
        }),
        barGauge({
          title: 'Sending queue usage',
          description: 'Queue size / capacity per exporter. CollectorDroppingTelemetry warns from 90%.',
          queries: [q('max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)', '{{exporter}}')],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.queueUsage,
          min: 0,
          max: 1,
        }),
      ],
    },
    {
      title: 'Processors',
      panels: [
        timeseries({
          title: 'Memory limiter: accepted and refused',
          description:
            'Items per second the memory_limiter let through, and those it refused because the collector was over its soft limit (0 until the first refusal). Refusals reach the senders as "retry later".',
          queries: [
            ...perSignal('otelcol_processor_memory_limiter_accepted', [], 'accepted'),
            ...perSignalOrZero('otelcol_processor_memory_limiter_refused', 'otelcol_processor_memory_limiter_accepted', [], 'refused'),
          ],
          unit: UNIT.ops,
          min: 0,
        }),
        timeseries({
          title: 'Batch processor',
          description: 'Mean items per batch sent, and batches sent per second because the timeout expired (the rest left because they were full).',
          queries: [
            q(average('otelcol_processor_batch_batch_send_size', '', []), 'items per batch'),
            q(sumBy([], rate('otelcol_processor_batch_timeout_trigger_send')), 'sent on timeout /s'),
          ],
          unit: UNIT.count,
          min: 0,
          overrides: [{ queries: [1], properties: [{ id: 'unit', value: UNIT.ops }, { id: 'custom.axisPlacement', value: 'right' }] }],
        }),
      ],
    },
    {
      title: 'Process',
      panels: [
        timeseries({
          title: 'Memory',
          description: 'Resident set size of the collector, the Go heap in use, and the memory the Go runtime took from the OS. The memory_limiter acts on the heap.',
          queries: [
            q('otelcol_process_memory_rss', 'RSS {{instance}}'),
            q('otelcol_process_runtime_heap_alloc_bytes', 'heap {{instance}}'),
            q('otelcol_process_runtime_total_sys_memory_bytes', 'from OS {{instance}}'),
          ],
          unit: UNIT.bytes,
          min: 0,
          w: 10,
        }),
        timeseries({
          title: 'CPU',
          description: 'CPU time used per second (1 = one full core). Dashed line: HighCpu at half a core.',
          queries: [q(rate('otelcol_process_cpu_seconds'), '{{instance}}')],
          unit: UNIT.cores,
          thresholds: THRESHOLD.cpu,
          showThresholds: true,
          min: 0,
          w: 10,
        }),
        stat({
          title: 'Uptime',
          description: 'Time since the collector process started.',
          queries: [q('max(otelcol_process_uptime)')],
          unit: UNIT.seconds,
          w: 4,
          h: 8,
        }),
      ],
    },
  ],
});
