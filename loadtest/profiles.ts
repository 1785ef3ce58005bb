// The load profiles: which scenarios run, with which executor and stages. Rates are requests per
// second of one iteration = one request (arrival-rate executors: an open model, like real clients
// that do not wait for each other), sized for the local stack on a 2-core machine. Every duration
// is multiplied by LOAD_DURATION_SCALE.
import type { Scenario, Stage } from 'k6/options';
import { DURATION_SCALE } from './lib/env.ts';

/** The exported functions of main.ts a scenario can run. */
export type Exec = 'serviceA' | 'edge' | 'hash';

export interface Profile {
  description: string;
  scenarios: Record<string, Scenario & { exec: Exec }>;
}

/** Seconds → a k6 duration, scaled, never below 1 s. */
export function scaled(seconds: number, scale = DURATION_SCALE): string {
  return `${Math.max(1, Math.round(seconds * scale))}s`;
}

/** [seconds, target] pairs → k6 stages, scaled. */
function stages(...steps: [number, number][]): Stage[] {
  return steps.map(([seconds, target]) => ({ duration: scaled(seconds), target }));
}

function arrival(exec: Exec, steps: [number, number][], maxVUs: number): Scenario & { exec: Exec } {
  return {
    executor: 'ramping-arrival-rate',
    exec,
    startRate: 0,
    timeUnit: '1s',
    preAllocatedVUs: Math.max(2, Math.ceil(maxVUs / 4)),
    maxVUs,
    stages: stages(...steps),
    gracefulStop: '10s',
  };
}

export const PROFILES: Record<string, Profile> = {
  smoke: {
    description: 'every route once per iteration, 2 VUs on service-a and 1 on the edge, 20 s: does it all work?',
    scenarios: {
      service_a: { executor: 'constant-vus', exec: 'serviceA', vus: 2, duration: scaled(20), gracefulStop: '5s', env: { MIX: 'all' } },
      edge: { executor: 'constant-vus', exec: 'edge', vus: 1, duration: scaled(20), gracefulStop: '5s', env: { MIX: 'all' } },
    },
  },
  average: {
    description: 'a normal day: ramp to 20 req/s on service-a and 1 image/s on the edge over 1 min, hold 5 min, ramp down 1 min',
    scenarios: {
      service_a: arrival('serviceA', [[60, 20], [300, 20], [60, 0]], 60),
      edge: arrival('edge', [[60, 1], [300, 1], [60, 0]], 10),
    },
  },
  stress: {
    description: 'steps past the average: 20 → 60 → 120 req/s on service-a and 1 → 3 → 6 images/s, 2 min each, 13 min in all',
    scenarios: {
      service_a: arrival('serviceA', [[60, 20], [120, 20], [60, 60], [120, 60], [60, 120], [120, 120], [60, 0]], 250),
      edge: arrival('edge', [[60, 1], [120, 1], [60, 3], [120, 3], [60, 6], [120, 6], [60, 0]], 40),
    },
  },
  spike: {
    description: 'quiet, then a sudden burst: 5 → 200 req/s in 10 s held 1 min (edge 1 → 8 images/s), then back to 5 and recovery',
    scenarios: {
      service_a: arrival('serviceA', [[30, 5], [10, 200], [60, 200], [10, 5], [60, 5], [10, 0]], 400),
      edge: arrival('edge', [[30, 1], [10, 8], [60, 8], [10, 1], [60, 1], [10, 0]], 60),
    },
  },
  soak: {
    description: 'the average load for 2 h (ramps of 2 min): leaks, growth and drift show over time',
    scenarios: {
      service_a: arrival('serviceA', [[120, 20], [7200, 20], [120, 0]], 60),
      edge: arrival('edge', [[120, 1], [7200, 1], [120, 0]], 10),
    },
  },
  hash: {
    description: 'POST /hash (JSON and form) at 60 virtual users: 15 s ramp, 120 s hold',
    scenarios: {
      hash: {
        executor: 'ramping-vus',
        exec: 'hash',
        startVUs: 0,
        stages: stages([15, 60], [120, 60]),
        gracefulRampDown: '5s',
        gracefulStop: '5s',
      },
    },
  },
};

export function profile(name: string): Profile {
  const p = PROFILES[name];
  if (!p) throw new Error(`unknown profile "${name}"; profiles: ${Object.keys(PROFILES).join(', ')}`);
  return p;
}
