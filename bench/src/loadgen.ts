/**
 * The load generator, run in its own process so that its CPU is measured alone and the bench
 * process stays free to scrape /metrics and sample /proc meanwhile:
 *   node dist/src/loadgen.js '<LoadSpec as JSON>' | @<file with the LoadSpec as JSON>
 * Prints "measuring" when the warm-up is over, then one line of JSON (LoadgenOutput) when done.
 *
 * Saturation runs use autocannon. Latencies come from its per-response event (floating-point
 * milliseconds), not from its histogram, which rounds to whole milliseconds: too coarse for a 1 ms
 * per-hop target.
 *
 * Fixed-rate runs do not use autocannon's `overallRate`: it lets each connection send its quota for
 * the second back to back and then pause until the next second, so "half the saturation rate" is
 * really saturation for half of every second, and p99 measures that burst. Here requests are
 * instead spaced evenly (open loop, on a keep-alive agent), and each latency counts from the time
 * the request was due, so a server that falls behind is not hidden by requests sent late.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { latencySummary, Latencies } from './stats';

// autocannon ships no types; this is the part of its API used here.
interface Tracker extends PromiseLike<AutocannonResult> {
  on(event: 'response', fn: (client: unknown, statusCode: number, bytes: number, ms: number) => void): void;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Tracker;

export interface LoadSpec {
  url: string;
  method?: string;
  body?: string;
  /** A binary body (an image), base64 in the spec. */
  bodyBase64?: string;
  headers?: Record<string, string>;
  seconds: number;
  connections: number;
  /**
   * Requests per second, evenly spaced over at most `connections` keep-alive sockets; unset = as
   * fast as the server answers on `connections` connections (saturation, autocannon).
   */
  overallRate?: number;
  warmupSeconds?: number;
}

export interface LoadgenOutput {
  rps: number;
  total: number;
  errors: number;
  non2xx: number;
  latencyMs: Latencies;
  /** CPU of this process over the measured window, in cores. */
  generatorCores: number;
  seconds: number;
}

interface Window {
  latencies: number[];
  errors: number;
  non2xx: number;
  sent: number;
  seconds: number;
}

/** Requests spaced evenly at `rate` per second for `seconds`, open loop. */
async function evenRate(spec: LoadSpec, rate: number, seconds: number): Promise<Window> {
  const target = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const body = spec.bodyBase64 ? Buffer.from(spec.bodyBase64, 'base64') : spec.body !== undefined ? Buffer.from(spec.body) : undefined;
  const headers: Record<string, string | number> = { ...(spec.headers ?? {}) };
  if (body) headers['content-length'] = body.length;
  const w: Window = { latencies: [], errors: 0, non2xx: 0, sent: 0, seconds };
  const n = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  let done = 0;
  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
  const settle = () => {
    if (++done === n) finish();
  };
  const send = (due: number) => {
    w.sent++;
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: spec.method ?? 'GET', agent, headers },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) w.latencies.push(performance.now() - due);
          else w.non2xx++;
          settle();
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      w.errors++;
      settle();
    });
    req.end(body);
  };
  const t0 = performance.now();
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < n && t0 + next * interval <= now) send(t0 + next++ * interval);
      if (next < n) setTimeout(tick, Math.max(0, Math.min(1, t0 + next * interval - performance.now())));
      else resolve();
    };
    tick();
  });
  await allDone;
  agent.destroy();
  return w;
}

async function runEvenRate(spec: LoadSpec, rate: number): Promise<LoadgenOutput> {
  if (spec.warmupSeconds) await evenRate(spec, rate, spec.warmupSeconds);
  process.stdout.write('measuring\n');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const w = await evenRate(spec, rate, spec.seconds);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: w.latencies.length / spec.seconds,
    total: w.sent,
    errors: w.errors,
    non2xx: w.non2xx,
    latencyMs: latencySummary(w.latencies),
    generatorCores: (cpu.user + cpu.system) / 1e6 / wallS,
    seconds: wallS,
  };
}

async function run(spec: LoadSpec): Promise<LoadgenOutput> {
  if (spec.overallRate) return runEvenRate(spec, spec.overallRate);
  const base = {
    url: spec.url,
    method: spec.method ?? 'GET',
    body: spec.bodyBase64 ? Buffer.from(spec.bodyBase64, 'base64') : spec.body,
    headers: spec.headers,
    connections: spec.connections,
  };
  if (spec.warmupSeconds) await autocannon({ ...base, duration: spec.warmupSeconds });
  // Tells the parent when to start measuring the server's CPU.
  process.stdout.write('measuring\n');
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const tracker = autocannon({ ...base, duration: spec.seconds });
  tracker.on('response', (_c, status, _b, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
  });
  const r = await tracker;
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: latencies.length / r.duration,
    total: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    latencyMs: latencySummary(latencies),
    generatorCores: (cpu.user + cpu.system) / 1e6 / wallS,
    seconds: r.duration,
  };
}

if (require.main === module) {
  // A spec with a binary body can exceed the 128 KiB limit of one argument: "@file" reads it from a file.
  const arg = process.argv[2] ?? '{}';
  run(JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadSpec)
    .then((out) => process.stdout.write(JSON.stringify(out) + '\n'))
    .catch((err) => {
      process.stderr.write(`loadgen: ${err instanceof Error ? err.message : err}\n`);
      process.exit(1);
    });
}
