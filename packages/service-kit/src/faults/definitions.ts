/**
 * The faults a Meridian service can be told to show, and the flags that drive them. Flag keys are
 * `<service.name>.<suffix>` in one flagd-format file shared by every service.
 */
export const FAULT_NAMES = ['latency', 'error', 'crash', 'cpu-hog', 'memory-growth', 'downstream-unreachable', 'readiness-fail'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** Faults that can take down the process or the machine: inert unless FAULTS_UNSAFE_ENABLED=true. */
export const UNSAFE_FAULTS: ReadonlySet<FaultName> = new Set(['crash', 'cpu-hog', 'memory-growth']);

export interface FaultSettings {
  /** Added delay in ms for the requests picked by latencyShare. */
  latencyMs: number;
  /** Share (0..1) of requests delayed while latencyMs > 0. */
  latencyShare: number;
  /** Share (0..1) of requests answered 500. */
  errorShare: number;
  crash: boolean;
  /** Share (0..0.95) of one core burnt on the event loop. */
  cpuHog: number;
  /** MiB retained per second, up to FAULT_MEMORY_MAX_MB. */
  memoryGrowthMbPerS: number;
  downstreamUnreachable: boolean;
  readinessFail: boolean;
}

export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  latencyMs: 0,
  latencyShare: 1,
  errorShare: 0,
  crash: false,
  cpuHog: 0,
  memoryGrowthMbPerS: 0,
  downstreamUnreachable: false,
  readinessFail: false,
});

type NumberKey = { [K in keyof FaultSettings]: FaultSettings[K] extends number ? K : never }[keyof FaultSettings];
type BooleanKey = { [K in keyof FaultSettings]: FaultSettings[K] extends boolean ? K : never }[keyof FaultSettings];

export type FlagSpec =
  | { suffix: string; field: NumberKey; type: 'number'; min: number; max: number }
  | { suffix: string; field: BooleanKey; type: 'boolean' };

/** Flag suffix → setting. Values outside [min, max] are clamped. */
export const FLAG_SPECS: readonly FlagSpec[] = [
  { suffix: 'latency-ms', field: 'latencyMs', type: 'number', min: 0, max: 60_000 },
  { suffix: 'latency-share', field: 'latencyShare', type: 'number', min: 0, max: 1 },
  { suffix: 'error-share', field: 'errorShare', type: 'number', min: 0, max: 1 },
  { suffix: 'crash', field: 'crash', type: 'boolean' },
  { suffix: 'cpu-hog', field: 'cpuHog', type: 'number', min: 0, max: 0.95 },
  { suffix: 'memory-growth', field: 'memoryGrowthMbPerS', type: 'number', min: 0, max: 1024 },
  { suffix: 'downstream-unreachable', field: 'downstreamUnreachable', type: 'boolean' },
  { suffix: 'readiness-fail', field: 'readinessFail', type: 'boolean' },
];

export function flagKey(serviceName: string, suffix: string): string {
  return `${serviceName}.${suffix}`;
}

/** Which faults the settings turn on, before the unsafe switch is applied. */
export function requestedFaults(s: FaultSettings): Record<FaultName, boolean> {
  return {
    latency: s.latencyMs > 0 && s.latencyShare > 0,
    error: s.errorShare > 0,
    crash: s.crash,
    'cpu-hog': s.cpuHog > 0,
    'memory-growth': s.memoryGrowthMbPerS > 0,
    'downstream-unreachable': s.downstreamUnreachable,
    'readiness-fail': s.readinessFail,
  };
}

/** One line per fault for the logs: what it does now. */
export function describeFault(name: FaultName, s: FaultSettings): string {
  switch (name) {
    case 'latency':
      return `+${s.latencyMs} ms on ${Math.round(s.latencyShare * 100)}% of requests`;
    case 'error':
      return `500 on ${Math.round(s.errorShare * 100)}% of requests`;
    case 'crash':
      return 'the process exits';
    case 'cpu-hog':
      return `${Math.round(s.cpuHog * 100)}% of a core burnt on the event loop`;
    case 'memory-growth':
      return `${s.memoryGrowthMbPerS} MiB/s retained`;
    case 'downstream-unreachable':
      return 'every outbound call fails as if the peer were unreachable';
    case 'readiness-fail':
      return '/ready answers 503';
  }
}
