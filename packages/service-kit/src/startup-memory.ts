type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;

/**
 * Gives back what start-up allocated and no longer needs: one memory-reducing full collection
 * (V8's "last resort" one, which also shrinks the young generation to its minimum and returns the
 * freed pages) once the service listens. Start-up grows the young generation to its maximum
 * (`--max-semi-space-size`), and V8's own memory reducer, which would shrink it, keeps waiting on
 * an idle service: it judges the allocation rate from the last collections, those of start-up
 * (`--trace-memory-reducer` prints "high alloc" every 8 s). About 20 MiB per service, in 30-50 ms,
 * before the first request. The collector is reachable only with `--expose-gc`
 * (packages/service-kit/node-flags.json); without it this does nothing.
 * @returns how long the collection took in ms, or undefined when gc is not exposed
 */
export function releaseStartupMemory(): number | undefined {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') return undefined;
  const started = performance.now();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return performance.now() - started;
}
