import { Counter, Histogram, register } from 'prom-client';

/** Time spent computing one prediction: session.run for a model, the whole fan-out for the ensemble. */
export const inferenceDuration =
  (register.getSingleMetric('inference_duration_seconds') as Histogram<'model'> | undefined) ??
  new Histogram({
    name: 'inference_duration_seconds',
    help: 'Inference duration in seconds, by model (efficientnetb0, mobilenetv2, ensemble)',
    labelNames: ['model'],
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
  });

/** Ensemble answers given from one member because the other failed, by the member that failed. */
export const ensembleDegraded =
  (register.getSingleMetric('inference_ensemble_degraded_total') as Counter<'member'> | undefined) ??
  new Counter({
    name: 'inference_ensemble_degraded_total',
    help: 'Ensemble answers given by one member alone because the other failed, by failed member',
    labelNames: ['member'],
  });
