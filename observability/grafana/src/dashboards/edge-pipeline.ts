import { dashboard, datasourceVariable, q, stat, table, THRESHOLD, timeseries, UNIT } from '../grafana';
import { average, EDGE_PIPELINE_SERVICES, errorRatio, quantile, rate, sumBy } from '../promql';

// preprocessing_duration_seconds{stage}: decode, resize, normalize (on the edge), inference (the
// edge's call to the ensemble, network included) and total (one whole successful request).
// inference_duration_seconds{model}: ensemble (its whole fan-out) and each model's session.run.
const STAGES = 'stage!="total"';
const SPAN_SERVICES = `service_name=~"${EDGE_PIPELINE_SERVICES.join('|')}", span_kind="SPAN_KIND_SERVER"`;

export const edgePipeline = dashboard({
  uid: 'meridian-edge-pipeline',
  title: 'Meridian edge pipeline',
  description:
    'The image path: preprocessing on the edge (decode, resize, normalize), the call to the ensemble, and each model; throughput, latency per stage and model, and where the time goes.',
  tags: ['meridian'],
  variables: [datasourceVariable('datasource', 'prometheus', 'Prometheus'), datasourceVariable('jaeger', 'jaeger', 'Jaeger')],
  rows: [
    {
      title: 'Throughput',
      panels: [
        stat({
          title: 'Images/s',
          description: 'Images fully processed per second by the edge (successful requests: stage="total").',
          queries: [q(sumBy([], rate('preprocessing_duration_seconds_count{stage="total"}')))],
          unit: UNIT.ops,
          sparkline: true,
          decimals: 2,
        }),
        stat({
          title: 'Edge 5xx share',
          description: 'Share of POST /preprocessing answered 5xx (the ensemble down or too slow shows as 502/504).',
          queries: [q(errorRatio([], 'job="preprocessing-edge"'))],
          unit: UNIT.ratio,
          thresholds: THRESHOLD.errorRatio,
          sparkline: true,
          decimals: 2,
        }),
        stat({
          title: 'Edge p95 (whole request)',
          description: '95th percentile of a whole successful preprocessing request (stage="total").',
          queries: [q(quantile(0.95, 'preprocessing_duration_seconds', '{stage="total"}', []))],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          sparkline: true,
        }),
        stat({
          title: 'Ensemble p95',
          description: '95th percentile of the ensemble\'s fan-out to both models (model="ensemble").',
          queries: [q(quantile(0.95, 'inference_duration_seconds', '{model="ensemble"}', []))],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          sparkline: true,
        }),
        timeseries({
          title: 'Edge answers by status code',
          description: 'POST /preprocessing answers per second by status: 200, 4xx for bad images (problem+json), 5xx when the cloud side fails.',
          queries: [q(sumBy(['status_code'], rate('http_requests_total{job="preprocessing-edge", route="/preprocessing"}')), '{{status_code}}')],
          unit: UNIT.reqps,
          stack: true,
          min: 0,
        }),
        timeseries({
          title: 'Predictions per second by model',
          description: 'Predictions computed per second by the ensemble and by each model (inference_duration_seconds_count).',
          queries: [q(sumBy(['model'], rate('inference_duration_seconds_count')), '{{model}}')],
          unit: UNIT.ops,
          min: 0,
        }),
      ],
    },
    {
      title: 'Edge preprocessing stages',
      panels: [
        timeseries({
          title: 'Stage duration p50 / p95',
          description: 'Quantiles of preprocessing_duration_seconds by stage. "inference" is the edge\'s call to the ensemble, network included.',
          queries: [
            q(quantile(0.5, 'preprocessing_duration_seconds', '', ['stage']), 'p50 {{stage}}'),
            q(quantile(0.95, 'preprocessing_duration_seconds', '', ['stage']), 'p95 {{stage}}'),
          ],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          showThresholds: true,
        }),
        timeseries({
          title: 'Stage rate',
          description: 'Stages completed per second (a failed request stops at the failing stage).',
          queries: [q(sumBy(['stage'], rate('preprocessing_duration_seconds_count')), '{{stage}}')],
          unit: UNIT.ops,
          min: 0,
        }),
      ],
    },
    {
      title: 'Inference',
      panels: [
        timeseries({
          title: 'Inference duration p50 / p95 by model',
          description: 'Quantiles of inference_duration_seconds: session.run of each model, and the ensemble\'s whole fan-out (both models in parallel, plus averaging).',
          queries: [
            q(quantile(0.5, 'inference_duration_seconds', '', ['model']), 'p50 {{model}}'),
            q(quantile(0.95, 'inference_duration_seconds', '', ['model']), 'p95 {{model}}'),
          ],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          showThresholds: true,
        }),
        timeseries({
          title: 'Where the time goes (average per request)',
          description:
            'Stacked: mean time per edge stage (rate(_sum)/rate(_count)), adding up to a whole request. Dashed lines, not stacked: mean time of the ensemble and of each model, spent inside the "inference" band (the two models run in parallel).',
          queries: [
            q(average('preprocessing_duration_seconds', `{${STAGES}}`, ['stage']), 'edge {{stage}}'),
            q(average('inference_duration_seconds', '', ['model']), 'model {{model}}'),
          ],
          unit: UNIT.seconds,
          stack: true,
          min: 0,
          overrides: [
            {
              queries: [1],
              properties: [
                { id: 'custom.stacking', value: { group: 'models', mode: 'none' } },
                { id: 'custom.fillOpacity', value: 0 },
                { id: 'custom.lineStyle', value: { dash: [10, 10], fill: 'dash' } },
                { id: 'custom.lineWidth', value: 2 },
              ],
            },
          ],
        }),
      ],
    },
    {
      title: 'Span metrics (from traces)',
      panels: [
        timeseries({
          title: 'Server span duration p50 / p95',
          description:
            'Latency of the server spans of the edge and the three inference services, from the collector\'s span metrics (traces_span_metrics_duration_seconds): the same requests, measured from the traces.',
          queries: [
            q(quantile(0.5, 'traces_span_metrics_duration_seconds', `{${SPAN_SERVICES}}`, ['service_name']), 'p50 {{service_name}}'),
            q(quantile(0.95, 'traces_span_metrics_duration_seconds', `{${SPAN_SERVICES}}`, ['service_name']), 'p95 {{service_name}}'),
          ],
          unit: UNIT.seconds,
          thresholds: THRESHOLD.latency,
          showThresholds: true,
        }),
        timeseries({
          title: 'Server spans per second',
          description: 'Server spans per second of the same four services (traces_span_metrics_calls_total), by span status.',
          queries: [q(sumBy(['service_name', 'status_code'], rate(`traces_span_metrics_calls_total{${SPAN_SERVICES}}`)), '{{service_name}} {{status_code}}')],
          unit: UNIT.ops,
          min: 0,
        }),
        table({
          title: 'Recent edge traces (Jaeger)',
          description: 'The latest traces that start at preprocessing-edge; open one for its waterfall across the ensemble and both models.',
          queries: [{ jaegerService: 'preprocessing-edge', limit: 20 }],
        }),
      ],
    },
  ],
});
