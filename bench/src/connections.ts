/**
 * 10. Many connections: service-a (SDK on) takes a burst of 5,000 new connections at once (one
 * `GET /healthy` each, `Connection: close`), alone and with 2,000 idle keep-alive connections held
 * open meanwhile, alternating. While the burst runs, a probe thread asks for /healthy every 100 ms
 * on a new connection to the main port, on one kept connection, and on a new connection to the probe
 * port (PROBE_PORT, as the chart's kubelet probes). Figures: the slowest probe of each kind, the burst's duration with ÷ without the idle ones, and the memory they cost.
 * tests/clients/many-connections.test.ts checks that every answer arrives; this says how fast.
 */
import { connectionFlood, freePort, type FloodResult } from '@meridian/test-kit';
import type { Comparison, Ctx } from './context';
import { startPipeline } from './pipeline';
import { rssMiB } from './procs';
import { alternate } from './rounds';
import { startChain } from './services';
import { fmt, median, medianPairedRatio } from './stats';

const IDLE = 2000;
const BURST = 5000;

const slowest = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);

export const connections: Comparison = {
  name: 'connections',
  title: `Many connections: a burst of ${BURST.toLocaleString('en-US')} new connections to service-a, alone and beside ${IDLE.toLocaleString('en-US')} idle keep-alive ones; /healthy meanwhile`,
  items: [10],
  async run(ctx: Ctx) {
    const pipeline = await startPipeline();
    try {
      const runs = await alternate(ctx, ['burst', 'burst+idle'] as const, ctx.settings.fewRounds, async (side) => {
        // A fresh service-a each run, with keep-alive long enough for the idle ones to outlast the burst.
        const probePort = await freePort();
        const env = { HTTP_KEEPALIVE_TIMEOUT_MS: '120000', PROBE_PORT: String(probePort) };
        const chain = await startChain(['service-a'], { sdk: 'on', pipeline, envFor: { 'service-a': env } });
        try {
          const a = chain.get('service-a');
          const r = await connectionFlood({ port: Number(new URL(a.url).port), probePort, idle: side === 'burst' ? 0 : IDLE, burst: BURST, sample: async () => rssMiB(a.pid) });
          ctx.log(
            `  ${side}: burst ${r.burstOk}/${BURST} in ${fmt(r.burstMs / 1000)} s; /healthy slowest ${fmt(slowest(r.probeMs))} ms new, ` +
              `${fmt(slowest(r.keptProbeMs))} ms kept, ${fmt(slowest(r.probePortMs))} ms on the probe port ` +
              `(${r.probeMs.length} probes, ${r.probeFailed + r.keptProbeFailed + r.probePortFailed} failed); ` +
              `RSS ${fmt(r.samples[0])} → peak ${fmt(Math.max(...r.samples))} MiB`,
          );
          return r;
        } finally {
          await chain.stop();
        }
      });
      const both = [...runs.burst, ...runs['burst+idle']];
      const withIdle = runs['burst+idle'];
      const failures = (r: FloodResult) => r.burstFailed + r.probeFailed + r.keptProbeFailed + r.probePortFailed + r.idleFailed;
      const detail = (rs: FloodResult[], pick: (r: FloodResult) => number[]) =>
        `per run ${rs.map((r) => fmt(slowest(pick(r)))).join(', ')} ms over ${rs.map((r) => pick(r).length).join(', ')} probes; ` +
        `failed connections or probes ${rs.map(failures).join(', ')}`;
      // The 1 s target is for the probes that decide a restart: the probe port (the chart's) and a kept
      // connection. A new connection to the main port waits for TCP's 1 s SYN retransmit once the
      // burst fills its accept queue, whatever the server does, so it is shown without one.
      const probes = [
        { kind: 'new', label: 'new connection to the main port each time', pick: (r: FloodResult) => r.probeMs, target: false },
        { kind: 'kept', label: 'on a kept connection', pick: (r: FloodResult) => r.keptProbeMs, target: true },
        { kind: 'probeport', label: 'new connection to the probe port each time', pick: (r: FloodResult) => r.probePortMs, target: true },
      ];
      for (const { kind, label, pick, target } of probes) {
        ctx.figure({
          id: `connections.healthy.${kind}`,
          item: 10,
          label: `/healthy during the burst beside ${IDLE} idle connections, ${label}: slowest`,
          value: median(withIdle.map((r) => slowest(pick(r)))),
          unit: 'ms',
          ...(target ? { target: { op: '<=' as const, value: 1000 } } : {}),
          detail: `${detail(withIdle, pick)}; burst alone: ${fmt(median(runs.burst.map((r) => slowest(pick(r)))))} ms`,
        });
      }
      const ratio = medianPairedRatio(
        withIdle.map((r) => r.burstMs),
        runs.burst.map((r) => r.burstMs),
      );
      ctx.figure({
        id: 'connections.burst.ratio',
        item: 10,
        label: `Burst of ${BURST} connections: duration with ${IDLE} idle ones held ÷ alone`,
        value: ratio.median,
        unit: '',
        detail: `with ${fmt(median(withIdle.map((r) => r.burstMs)) / 1000)} s, alone ${fmt(median(runs.burst.map((r) => r.burstMs)) / 1000)} s; per-round ratios ${fmt(ratio.min)}–${fmt(ratio.max)}, n=${ratio.n}; answered ${both.map((r) => r.burstOk).join(', ')} of ${BURST}`,
      });
      const growth = (r: FloodResult) => Math.max(...r.samples) - r.samples[0];
      ctx.figure({
        id: 'connections.rss',
        item: 10,
        label: `service-a RSS growth, ${IDLE} idle + ${BURST} new connections (peak − before)`,
        value: median(withIdle.map(growth)),
        unit: 'MiB',
        detail: `burst alone ${fmt(median(runs.burst.map(growth)))} MiB; before ${fmt(median(withIdle.map((r) => r.samples[0])))} MiB; ${IDLE} idle connections held open after the burst: ${withIdle.map((r) => r.idleStillOpen).join(', ')}`,
      });
      return runs;
    } finally {
      await pipeline.stop();
    }
  },
};
