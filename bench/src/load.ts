import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

// autocannon ships no types; this is the part of its API the benchmarks use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

export interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  non2xx: number;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  /** CPU the load generator itself used, in cores, so a saturated generator is visible. */
  generatorCores: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs autocannon against a loopback URL for a bounded time. */
export async function load(url: string, seconds: number, connections = 32, extra: Record<string, unknown> = {}): Promise<LoadResult> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await autocannon({ url, duration: seconds, connections, ...extra });
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    generatorCores: (cpu.user + cpu.system) / wallUs,
  };
}

/** Spawns a process and resolves once it prints "ready" (or its /ready answers, with readyUrl). */
export async function startProcess(
  args: string[],
  env: Record<string, string> = {},
  readyUrl?: string,
  timeoutMs = 30_000,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const until = Date.now() + timeoutMs;
  if (!readyUrl) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
      child.stdout!.on('data', (c: Buffer) => {
        if (c.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    return child;
  }
  child.stdout!.resume();
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(readyUrl, { signal: AbortSignal.timeout(1000) })).status === 200) return child;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`not ready at ${readyUrl} in ${timeoutMs} ms: ${stderr}`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
