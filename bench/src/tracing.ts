/**
 * 1. Cost of tracing: service-a `GET /` and `POST /hash` at saturation with the SDK on (100 %
 * sampling, OTLP/HTTP to the real collector, which exports to a real Jaeger), with the SDK on and
 * the full auto-instrumentation set, and with the SDK not loaded; and the same two routes on the
 * hand-written peer (bench/peer: Express, prom-client, pino-http, the SDK as its docs set it up),
 * with its SDK on and not loaded, alternating with service-a's sides in the first rounds.
 *
 * The collector and Jaeger run on the same machine as the service and the load generator, so the
 * SDK-on sides also pay for the pipeline's CPU; the figures say how much of it there was.
 */
import type { Comparison, Ctx } from './context';
import type { LoadResult } from './load';
import { counterDelta, metricSum, Pipeline, spanCounters, startPipeline } from './pipeline';
import { CpuWindow, RssSampler, rssMiB, sleep } from './procs';
import { alternate, rpsRatioFigure, saturate } from './rounds';
import { Running, SdkMode, startPeer, startService } from './services';
import { fmt, median } from './stats';

const SIDES = ['off', 'on', 'all', 'peer-off', 'peer-on'] as const satisfies readonly (SdkMode | `peer-${'off' | 'on'}`)[];
type Side = (typeof SIDES)[number];

/** The README's example request: one SHA-256 (the default, iterations = 1) of a short text. */
export const HASH_BODY = JSON.stringify({ data: 'hello, meridian' });

interface SideRun {
  get: LoadResult & { pipelineCores: number };
  hash: LoadResult & { pipelineCores: number };
  requests: number;
  spansAccepted: number;
  spansPerRequest: number;
  /** Spawn to /ready 200, ms. */
  readyMs: number;
  rssIdleMiB: number;
  rssPeakMiB: number;
  /** The answers to one GET / and one POST /hash, before the load. */
  answers: [string, string];
}

async function requestsServed(a: Running): Promise<number> {
  const text = await (await fetch(`${a.url}/metrics`)).text();
  return metricSum(text, 'http_requests_total');
}

function startSide(side: Side, pipeline: Pipeline, bUrl: string): Promise<Running> {
  if (side === 'peer-off' || side === 'peer-on') return startPeer(side === 'peer-on' ? 'on' : 'off', pipeline);
  return startService('service-a', { sdk: side, pipeline, env: { SERVICE_B_URL: bUrl } });
}

async function measureSide(ctx: Ctx, pipeline: Pipeline, side: Side, bUrl: string): Promise<SideRun> {
  const before = await spanCounters(pipeline);
  const sdk = side.replace('peer-', '');
  const name = side.startsWith('peer-') ? `peer SDK ${sdk}` : `SDK ${sdk}`;
  const a = await startSide(side, pipeline, bUrl);
  const pipePids = [pipeline.collector.pid, pipeline.jaeger.pid];
  let get: SideRun['get'];
  let hash: SideRun['hash'];
  let requests: number;
  const rssIdleMiB = rssMiB(a.pid);
  const sampler = new RssSampler(new Map([[name, [a.pid]]]));
  const hashRequest = { method: 'POST', body: HASH_BODY, headers: { 'content-type': 'application/json' } };
  let answers: SideRun['answers'];
  try {
    answers = [await (await fetch(`${a.url}/`)).text(), await (await fetch(`${a.url}/hash`, hashRequest)).text()];
    let w = new CpuWindow(pipePids);
    const g = await saturate(ctx, { url: `${a.url}/` }, [a.pid], `${name}, GET /`);
    get = { ...g, pipelineCores: w.cores() };
    w = new CpuWindow(pipePids);
    const h = await saturate(
      ctx,
      { url: `${a.url}/hash`, ...hashRequest },
      [a.pid],
      `${name}, POST /hash`,
    );
    hash = { ...h, pipelineCores: w.cores() };
    requests = await requestsServed(a);
  } finally {
    sampler.stop();
    // A graceful stop flushes the SDK's queue, so every exported span is counted below.
    await a.stop();
  }
  // The collector's receiver counts on arrival; a moment for the last batch.
  await sleep(sdk === 'off' ? 0 : 300);
  const d = counterDelta(before, await spanCounters(pipeline));
  const run: SideRun = {
    get,
    hash,
    requests,
    spansAccepted: d.accepted,
    spansPerRequest: d.accepted / requests,
    readyMs: a.readyMs,
    rssIdleMiB,
    rssPeakMiB: sampler.peak.get(name) ?? NaN,
    answers,
  };
  if (sdk !== 'off') {
    ctx.log(
      `  ${name}: ${fmt(requests)} requests, ${fmt(d.accepted)} spans accepted by the collector (${run.spansPerRequest.toFixed(2)} per request), pipeline ${get.pipelineCores.toFixed(2)} cores during GET /`,
    );
  }
  return run;
}

export const tracing: Comparison = {
  name: 'tracing',
  title: 'Tracing cost: service-a with the SDK on (100 % sampling, real collector and Jaeger) ÷ SDK not loaded; service-a against a hand-written Express peer',
  items: [1],
  async run(ctx: Ctx) {
    const pipeline = await startPipeline();
    // Not under test; service-a's /ready needs it.
    const b = await startService('service-b', { sdk: 'off' });
    try {
      // The peer's sides take the fewer rounds of the slower comparisons, to keep the whole run short.
      const peerRounds = Math.min(ctx.settings.fewRounds, ctx.settings.rounds);
      const runs = await alternate(ctx, SIDES, ctx.settings.rounds, (side) => measureSide(ctx, pipeline, side, b.url), {
        'peer-off': peerRounds,
        'peer-on': peerRounds,
      });
      // The peer is compared with service-a only while it answers the very same bodies.
      for (const [i, route] of ['GET /', 'POST /hash'].entries()) {
        if (runs['peer-on'][0].answers[i] !== runs.on[0].answers[i]) ctx.note(`the hand-written peer's ${route} answer differs from service-a's`);
      }
      const pick = (side: Side, route: 'get' | 'hash') => runs[side].map((r) => r[route]);
      const pipe = (side: Side, route: 'get' | 'hash') => median(pick(side, route).map((r) => r.pipelineCores)).toFixed(2);
      const spans = (side: Side) => median(runs[side].map((r) => r.spansPerRequest)).toFixed(2);
      for (const [route, label, target] of [
        ['get', 'GET /', 0.7],
        ['hash', 'POST /hash', 0.7],
      ] as const) {
        rpsRatioFigure(
          ctx,
          { id: `tracing.${route}.on-over-off`, item: 1, label: `Tracing cost, ${label}: req/s SDK on ÷ SDK off`, target: { op: '>=', value: target } },
          pick('on', route),
          pick('off', route),
          [`on (${spans('on')} spans/request, collector+Jaeger ${pipe('on', route)} cores)`, 'off'],
        );
        rpsRatioFigure(
          ctx,
          { id: `tracing.${route}.all-over-off`, item: 1, label: `Tracing cost, ${label}, full auto-instrumentation set: req/s ÷ SDK off` },
          pick('all', route),
          pick('off', route),
          [`all (${spans('all')} spans/request, collector+Jaeger ${pipe('all', route)} cores)`, 'off'],
        );
        rpsRatioFigure(
          ctx,
          { id: `tracing.${route}.on-over-all`, item: 1, label: `What the explicit list saves, ${label}: req/s explicit list ÷ full set` },
          pick('on', route),
          pick('all', route),
          ['explicit list', 'full set'],
        );
        rpsRatioFigure(
          ctx,
          { id: `tracing.${route}.peer-on-over-off`, item: 1, label: `Hand-written peer tracing cost, ${label}: req/s SDK on ÷ SDK off` },
          pick('peer-on', route),
          pick('peer-off', route),
          [`peer on (${spans('peer-on')} spans/request, collector+Jaeger ${pipe('peer-on', route)} cores)`, 'peer off'],
        );
        rpsRatioFigure(
          ctx,
          {
            id: `tracing.${route}.on-over-peer-on`,
            item: 1,
            label: `service-a fully observed ÷ hand-written peer fully observed, ${label}: req/s`,
            target: { op: '>=', value: 3 },
          },
          // Paired round by round: service-a's runs of the rounds the peer ran in.
          pick('on', route).slice(0, peerRounds),
          pick('peer-on', route),
          [`service-a (${spans('on')} spans/request)`, `peer (${spans('peer-on')} spans/request)`],
        );
      }
      // What the explicit list saves besides throughput: start-up and memory.
      const med = (side: Side, f: (r: SideRun) => number) => median(runs[side].map(f));
      ctx.figure({
        id: 'tracing.all-minus-on.readyMs',
        item: 1,
        label: 'What the explicit list saves: service-a cold start, full set minus explicit list',
        value: (med('all', (r) => r.readyMs) - med('on', (r) => r.readyMs)) / 1000,
        unit: 's',
        detail: `spawn to /ready: SDK off ${fmt(med('off', (r) => r.readyMs) / 1000)} s, explicit list ${fmt(med('on', (r) => r.readyMs) / 1000)} s, full set ${fmt(med('all', (r) => r.readyMs) / 1000)} s`,
      });
      ctx.figure({
        id: 'tracing.all-minus-on.rss',
        item: 1,
        label: 'What the explicit list saves: service-a peak RSS under load, full set minus explicit list',
        value: med('all', (r) => r.rssPeakMiB) - med('on', (r) => r.rssPeakMiB),
        unit: 'MiB',
        detail:
          `peak under load: SDK off ${fmt(med('off', (r) => r.rssPeakMiB))}, explicit list ${fmt(med('on', (r) => r.rssPeakMiB))}, full set ${fmt(med('all', (r) => r.rssPeakMiB))} MiB; ` +
          `idle: ${fmt(med('off', (r) => r.rssIdleMiB))} / ${fmt(med('on', (r) => r.rssIdleMiB))} / ${fmt(med('all', (r) => r.rssIdleMiB))} MiB`,
      });
      return runs;
    } finally {
      await b.stop();
      await pipeline.stop();
    }
  },
};
