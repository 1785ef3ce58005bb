import net from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { get } from './http-exchange';
import type { ProbeReport } from './connection-probe';

/**
 * Many connections at once against one HTTP server, on raw sockets: `idle` keep-alive connections
 * that each make one request and then stay open doing nothing, then a burst of `burst` new
 * connections opened together (one GET each, `Connection: close`), while a probe asks for
 * `probePath` on a fresh connection every `probeEveryMs`. Used by tests/clients/many-connections
 * (what must hold) and by the bench (what it costs).
 */
export interface FloodOptions {
  host?: string;
  port: number;
  idle: number;
  burst: number;
  /** Requested by every connection; default /healthy. */
  path?: string;
  probePath?: string;
  /** The service's probe port (PROBE_PORT): probed on a new connection too, beside the main port. */
  probePort?: number;
  probeEveryMs?: number;
  /** A connection (or probe) that has no answer by then counts as failed; default 30 s. */
  timeoutMs?: number;
  /** Sampled before, every probe and after: e.g. the server's resident memory. */
  sample?: () => Promise<number>;
}

export interface FloodResult {
  idleOpened: number;
  idleFailed: number;
  /** Idle connections still open after the burst (the server may close idle ones past its keep-alive timeout). */
  idleStillOpen: number;
  burstOk: number;
  burstFailed: number;
  /** Error codes of the failed burst connections, counted. */
  burstErrors: Record<string, number>;
  burstMs: number;
  /** Latencies of the probes made on new connections while the burst ran, in ms (failed ones count as timeoutMs). */
  probeMs: number[];
  probeFailed: number;
  /** The same probe on one keep-alive connection opened before the burst (a health checker that keeps its connection). */
  keptProbeMs: number[];
  keptProbeFailed: number;
  /** On a new connection to probePort each time (empty without one). */
  probePortMs: number[];
  probePortFailed: number;
  samples: number[];
}

export async function connectionFlood(opts: FloodOptions): Promise<FloodResult> {
  const host = opts.host ?? '127.0.0.1';
  const path = opts.path ?? '/healthy';
  const probePath = opts.probePath ?? '/healthy';
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const samples: number[] = [];
  const sample = async () => {
    if (opts.sample) samples.push(await opts.sample().catch(() => NaN));
  };
  await sample();

  // The idle ones, opened in groups so that they are all established before the burst.
  const idle: net.Socket[] = [];
  let idleFailed = 0;
  for (let i = 0; i < opts.idle; i += 200) {
    const group = await Promise.allSettled(
      Array.from({ length: Math.min(200, opts.idle - i) }, () => get(host, opts.port, path, true, timeoutMs)),
    );
    for (const r of group) {
      if (r.status === 'fulfilled' && r.value.status === 200) idle.push(r.value.socket);
      else {
        idleFailed++;
        if (r.status === 'fulfilled') r.value.socket.destroy();
      }
    }
  }
  let idleClosed = 0;
  for (const s of idle) s.once('close', () => idleClosed++);

  // The probes run in a thread of their own for as long as the burst does, so that the burst's
  // client work does not delay them: on a new connection each time (as the kubelet probes), and on
  // one connection kept open (a new connection waits in the accept queue behind the burst; a kept
  // one does not).
  const probe = new Worker(join(__dirname, 'connection-probe.js'), {
    workerData: { host, port: opts.port, probePort: opts.probePort, path: probePath, everyMs: opts.probeEveryMs ?? 100, timeoutMs },
  });
  const probed = new Promise<ProbeReport>((resolve, reject) => {
    probe.once('message', resolve);
    probe.once('error', reject);
  });
  await new Promise((r) => probe.once('online', r));
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sample();
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const t0 = performance.now();
  const burst = await Promise.allSettled(Array.from({ length: opts.burst }, () => get(host, opts.port, path, false, timeoutMs)));
  const burstMs = performance.now() - t0;
  probe.postMessage('stop');
  const { probeMs, probeFailed, keptProbeMs, keptProbeFailed, probePortMs, probePortFailed } = await probed;
  await probe.terminate();
  sampling = false;
  await sampler;
  let burstOk = 0;
  const burstErrors: Record<string, number> = {};
  for (const r of burst) {
    if (r.status === 'fulfilled') {
      r.value.socket.destroy();
      if (r.value.status === 200) burstOk++;
      else burstErrors[`HTTP ${r.value.status}`] = (burstErrors[`HTTP ${r.value.status}`] ?? 0) + 1;
    } else {
      const code = (r.reason as Error).message;
      burstErrors[code] = (burstErrors[code] ?? 0) + 1;
    }
  }
  const idleStillOpen = idle.length - idleClosed;
  for (const s of idle) s.destroy();
  await sample();
  return {
    idleOpened: idle.length,
    idleFailed,
    idleStillOpen,
    burstOk,
    burstFailed: opts.burst - burstOk,
    burstErrors,
    burstMs,
    probeMs,
    probeFailed,
    keptProbeMs,
    probePortMs,
    probePortFailed,
    keptProbeFailed,
    samples,
  };
}
