import { context, Span, trace } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { Gauge, register } from 'prom-client';
import { FAULT_NAMES, FaultName, FaultSettings, NO_FAULTS } from './definitions';

/**
 * The faults in force in this process, as the flag file last said (unsafe ones already filtered).
 * Read synchronously on the request path: evaluating flags per request would cost more than the
 * faults themselves.
 */
export const faultState: { settings: FaultSettings; active: Record<FaultName, boolean> } = {
  settings: { ...NO_FAULTS },
  active: Object.fromEntries(FAULT_NAMES.map((n) => [n, false])) as Record<FaultName, boolean>,
};

export const faultActive =
  (register.getSingleMetric('fault_active') as Gauge<'fault'> | undefined) ??
  new Gauge({
    name: 'fault_active',
    help: 'Injected faults in force in this process (1) or not (0), by fault; set from the flag file (FLAGS_FILE)',
    labelNames: ['fault'],
  });

/** One series per fault, all 0, so dashboards see the faults even when none was ever switched on. */
export function publishFaultState(): void {
  for (const name of FAULT_NAMES) faultActive.set({ fault: name }, faultState.active[name] ? 1 : 0);
}

/**
 * The HTTP server span of the request being handled (not a Fastify or Nest child span), where
 * fault attributes belong: it is the span that carries the request's status and duration.
 */
export function serverSpan(): Span | undefined {
  const ctx = context.active();
  return getRPCMetadata(ctx)?.span ?? trace.getSpan(ctx);
}

/** Notes a fault that affected this request on its server span: `meridian.fault.<name>`. */
export function markFault(name: FaultName, value: string | number | boolean = true): void {
  serverSpan()?.setAttribute(`meridian.fault.${name}`, value);
}
