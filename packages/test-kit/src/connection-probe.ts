// The probe thread of connection-flood.ts: GET the probe path every `everyMs`, on a new connection
// and on one kept-alive connection, until the parent posts 'stop'; then it posts the latencies.
import { parentPort, workerData } from 'node:worker_threads';
import type net from 'node:net';
import { get } from './http-exchange';

export interface ProbeReport {
  probeMs: number[];
  probeFailed: number;
  keptProbeMs: number[];
  keptProbeFailed: number;
  /** On a new connection to the service's probe port (PROBE_PORT), when one was given. */
  probePortMs: number[];
  probePortFailed: number;
}

interface ProbeSettings {
  host: string;
  port: number;
  probePort?: number;
  path: string;
  everyMs: number;
  timeoutMs: number;
}

async function main(): Promise<void> {
  const { host, port, probePort, path, everyMs, timeoutMs } = workerData as ProbeSettings;
  let running = true;
  parentPort!.once('message', () => (running = false));
  const report: ProbeReport = { probeMs: [], probeFailed: 0, keptProbeMs: [], keptProbeFailed: 0, probePortMs: [], probePortFailed: 0 };
  let kept: net.Socket | undefined = (await get(host, port, path, true, timeoutMs)).socket;
  /** Latency of one probe; a failure counts as timeoutMs. */
  const time = async (fn: () => Promise<number>, ms: number[], failed: () => void) => {
    const t0 = performance.now();
    try {
      if ((await fn()) !== 200) failed();
      ms.push(performance.now() - t0);
    } catch {
      failed();
      ms.push(timeoutMs);
    }
  };
  const fresh = (to: number) => async () => {
    const r = await get(host, to, path, false, timeoutMs);
    r.socket.destroy();
    return r.status;
  };
  while (running) {
    await time(fresh(port), report.probeMs, () => report.probeFailed++);
    if (probePort) await time(fresh(probePort), report.probePortMs, () => report.probePortFailed++);
    await time(
      async () => {
        const r = await get(host, port, path, true, timeoutMs, kept).catch((err: Error) => {
          kept = undefined;
          throw err;
        });
        kept = r.socket;
        return r.status;
      },
      report.keptProbeMs,
      () => report.keptProbeFailed++,
    );
    kept ??= (await get(host, port, path, true, timeoutMs).catch(() => undefined))?.socket;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  kept?.destroy();
  parentPort!.postMessage(report);
}

void main();
