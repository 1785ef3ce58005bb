/** The SDK lives in the register module; the app flushes it on shutdown through this hand-off. */
const KEY = Symbol.for('meridian.telemetry.shutdown');
type Holder = { [KEY]?: () => Promise<void> };

export function setTelemetryShutdown(fn: () => Promise<void>): void {
  (globalThis as Holder)[KEY] = fn;
}

export async function shutdownTelemetry(): Promise<void> {
  const fn = (globalThis as Holder)[KEY];
  if (fn) await fn();
}
