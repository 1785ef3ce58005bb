/**
 * Load: autocannon in a child process (loadgen.ts), and a small open-loop fixed-rate driver for
 * requests whose answers the benchmark needs to read (the edge's timings).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadgenOutput, LoadSpec } from './loadgen';
import { CpuWindow, failure, start } from './procs';
import { latencySummary, Latencies } from './stats';

export type { LoadSpec } from './loadgen';

export interface LoadResult extends LoadgenOutput {
  /** CPU the server processes used meanwhile, in cores. */
  serverCores: number;
}

/** A generator using 90 % of a core or more limits what it measures; results say so. */
export const GENERATOR_SATURATED_CORES = 0.9;

const LOADGEN = path.join(__dirname, 'loadgen.js');

/** Runs autocannon per spec in a child process; serverPids' CPU is measured over the same window. */
export async function runLoad(spec: LoadSpec, serverPids: number[] = []): Promise<LoadResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-loadgen-'));
  const specFile = path.join(dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const gen = start('loadgen', process.execPath, [LOADGEN, `@${specFile}`], { keepStdout: true });
  // The server's CPU is measured over the generator's measured window: from its "measuring" line
  // (after the warm-up) to its result line.
  let win: CpuWindow | undefined;
  let serverCores = NaN;
  gen.child.stdout!.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    if (!win && text.includes('measuring')) win = new CpuWindow(serverPids);
    if (win && Number.isNaN(serverCores) && text.includes('{')) serverCores = win.cores();
  });
  const code = await gen.exited;
  rmSync(dir, { recursive: true, force: true });
  const line = gen.tail.filter((l) => l.startsWith('{')).pop();
  if (code !== 0 || !line) throw failure(gen, `failed against ${spec.url}`);
  if (serverPids.length === 0) serverCores = NaN;
  return { ...(JSON.parse(line) as LoadgenOutput), serverCores };
}

export function generatorNote(r: { generatorCores: number }): string {
  return r.generatorCores >= GENERATOR_SATURATED_CORES ? ' GENERATOR SATURATED (a full core): figure limited by the load generator' : '';
}

/** One line of progress for a load run. */
export function describeLoad(r: LoadResult): string {
  return (
    `${Math.round(r.rps).toLocaleString('en-US')} req/s  p50 ${r.latencyMs.p50.toFixed(2)} ms  p99 ${r.latencyMs.p99.toFixed(2)} ms  ` +
    (Number.isNaN(r.serverCores) ? '' : `server ${r.serverCores.toFixed(2)} cores  `) +
    `generator ${r.generatorCores.toFixed(2)} cores` +
    (r.errors || r.non2xx ? `  errors ${r.errors} non-2xx ${r.non2xx}` : '') +
    generatorNote(r)
  );
}

export interface FixedRateResult<T> {
  answers: T[];
  latencyMs: Latencies;
  failures: number;
  /** Requests not sent because maxInFlight were already waiting (the server fell behind). */
  skipped: number;
  generatorCores: number;
}

/**
 * Calls fn at a fixed rate for a number of seconds, without waiting for earlier calls (open loop,
 * so a slow answer does not lower the offered rate), at most maxInFlight at once.
 */
export async function fixedRate<T>(rate: number, seconds: number, fn: () => Promise<T>, maxInFlight = 32): Promise<FixedRateResult<T>> {
  const answers: T[] = [];
  const latencies: number[] = [];
  let failures = 0;
  let skipped = 0;
  let inFlight = 0;
  const pending: Promise<void>[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const n = Math.max(1, Math.round(rate * seconds));
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= maxInFlight) {
      skipped++;
      continue;
    }
    inFlight++;
    const sent = performance.now();
    pending.push(
      fn()
        .then((a) => {
          latencies.push(performance.now() - sent);
          answers.push(a);
        })
        .catch(() => void failures++)
        .finally(() => void inFlight--),
    );
  }
  await Promise.all(pending);
  const cpu = process.cpuUsage(cpu0);
  return {
    answers,
    latencyMs: latencySummary(latencies),
    failures,
    skipped,
    generatorCores: (cpu.user + cpu.system) / 1e6 / ((performance.now() - t0) / 1000),
  };
}
