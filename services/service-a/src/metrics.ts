import { Gauge, register } from 'prom-client';

export const nodeGaugeExample =
  (register.getSingleMetric('node_gauge_example') as Gauge | undefined) ??
  new Gauge({ name: 'node_gauge_example', help: 'Duration in seconds of the last /example task' });
