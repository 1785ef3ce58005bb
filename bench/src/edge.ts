/**
 * 8. The edge pipeline at a fixed rate (SDK on, real collector): where a request's time goes
 * (decode, resize, normalise at the edge; the network and ensemble; each model as the ensemble saw
 * it), from the `timings` and `ensembleTimings` the edge answers; and the ensemble's latency against
 * the slower single model called directly, at the same rate, alternating round by round.
 */
import type { Comparison, Ctx } from './context';
import { benchJpeg, benchTensor, TENSOR_HEADERS } from './inputs';
import { fixedRate } from './load';
import { startPipeline } from './pipeline';
import { alternate } from './rounds';
import { startChain } from './services';
import { fmt, median, pairedRatios, spread } from './stats';

/** Images per second: well under what two cores classify, so the split is not a queueing figure. */
export const EDGE_RATE = 2;

interface EdgeAnswer {
  timings: { decodeMs: number; resizeMs: number; normalizeMs: number; inferenceMs: number; totalMs: number };
  ensembleTimings: { efficientnetb0Ms: number; mobilenetv2Ms: number; totalMs: number };
}

async function post<T>(url: string, body: Buffer, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

const SIDES = ['ensemble', 'efficientnetb0', 'mobilenetv2'] as const;

export const edge: Comparison = {
  name: 'edge',
  title: `Edge pipeline time split at ${EDGE_RATE} images/s, and the ensemble against the slower model (SDK on)`,
  items: [8],
  async run(ctx: Ctx) {
    const jpeg = await benchJpeg();
    const tensor = benchTensor();
    const pipeline = await startPipeline();
    const chain = await startChain(['preprocessing-edge'], { sdk: 'on', pipeline });
    try {
      const e = chain.get('preprocessing-edge');
      const seconds = ctx.settings.quick ? 5 : 15;
      // Warm-up: first inferences allocate onnxruntime's buffers.
      for (let i = 0; i < 3; i++) await post(`${e.url}/preprocessing`, jpeg, { 'content-type': 'image/jpeg' });
      ctx.log(`time split: ${EDGE_RATE} images/s (${jpeg.length} byte 640×480 JPEG) for ${seconds} s`);
      const run = await fixedRate(EDGE_RATE, seconds, () => post<EdgeAnswer>(`${e.url}/preprocessing`, jpeg, { 'content-type': 'image/jpeg' }));
      if (run.failures || run.skipped) ctx.note(`edge: ${run.failures} failed and ${run.skipped} skipped requests during the time split`);
      const m = (f: (a: EdgeAnswer) => number) => median(run.answers.map(f));
      const parts: [string, string, (a: EdgeAnswer) => number][] = [
        ['decode', 'decode (edge, sharp)', (a) => a.timings.decodeMs],
        ['resize', 'resize (edge, sharp)', (a) => a.timings.resizeMs],
        ['normalize', 'normalise to the tensor (edge)', (a) => a.timings.normalizeMs],
        ['network', 'network and HTTP: edge → ensemble and back (inference minus ensemble total)', (a) => a.timings.inferenceMs - a.ensembleTimings.totalMs],
        ['ensemble', 'ensemble total (both models in parallel, as the ensemble measured)', (a) => a.ensembleTimings.totalMs],
        ['efficientnetb0', 'efficientnetb0 call (as the ensemble measured it)', (a) => a.ensembleTimings.efficientnetb0Ms],
        ['mobilenetv2', 'mobilenetv2 call (as the ensemble measured it)', (a) => a.ensembleTimings.mobilenetv2Ms],
        ['other', 'rest of the edge request (upload read, answer)', (a) => a.timings.totalMs - a.timings.decodeMs - a.timings.resizeMs - a.timings.normalizeMs - a.timings.inferenceMs],
      ];
      const total = m((a) => a.timings.totalMs);
      for (const [id, label, f] of parts) {
        const v = m(f);
        ctx.figure({ id: `edge.split.${id}`, item: 8, label: `Edge time, ${label}, p50`, value: v, unit: 'ms', detail: `${fmt((v / total) * 100)} % of the edge total p50 ${fmt(total)} ms` });
      }
      ctx.figure({
        id: 'edge.total',
        item: 8,
        label: `Edge request, client-side latency at ${EDGE_RATE}/s`,
        value: run.latencyMs.p50,
        unit: 'ms',
        detail: `p99 ${fmt(run.latencyMs.p99)} ms over ${run.latencyMs.count} requests; edge totalMs p50 ${fmt(total)} ms`,
      });
      const fanOut = m((a) => a.ensembleTimings.totalMs / Math.max(a.ensembleTimings.efficientnetb0Ms, a.ensembleTimings.mobilenetv2Ms));
      ctx.figure({
        id: 'edge.fan-out-overhead',
        item: 8,
        label: 'Ensemble total ÷ its slower member call, same request (fan-out overhead)',
        value: fanOut,
        unit: '',
        detail: 'per request, median; 1.0 = the parallel fan-out adds nothing',
      });

      // The ensemble against each model alone, same tensor, same rate, alternating.
      const urls = {
        ensemble: `${chain.get('inference-ensemble').url}/ensemble`,
        efficientnetb0: `${chain.get('inference-efficientnetb0').url}/predict`,
        mobilenetv2: `${chain.get('inference-mobilenetv2').url}/predict`,
      };
      const sideSeconds = ctx.settings.quick ? 3 : 6;
      const inside: EdgeAnswer['ensembleTimings'][] = [];
      const runs = await alternate(ctx, SIDES, ctx.settings.rounds, async (side) => {
        const r = await fixedRate(EDGE_RATE, sideSeconds, () => post<Partial<EdgeAnswer> & { timings?: EdgeAnswer['ensembleTimings'] }>(urls[side], tensor, TENSOR_HEADERS));
        if (side === 'ensemble') for (const a of r.answers) if (a.timings) inside.push(a.timings);
        ctx.log(`  ${side}: p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms (${r.latencyMs.count} requests, ${r.failures} failed)`);
        return r.latencyMs;
      });
      const slower = runs.efficientnetb0.map((x, i) => Math.max(x.p50, runs.mobilenetv2[i].p50));
      const ratio = spread(pairedRatios(runs.ensemble.map((x) => x.p50), slower));
      // Where the difference goes: the members' calls as the ensemble timed them (both models at
      // once share the machine's cores) against each model called alone.
      const insideSlower = median(inside.map((t) => Math.max(t.efficientnetb0Ms, t.mobilenetv2Ms)));
      ctx.figure({
        id: 'edge.ensemble-over-slower-model',
        item: 8,
        label: 'Ensemble p50 ÷ slower model p50 (each called directly, same tensor and rate)',
        value: ratio.median,
        unit: '',
        target: { op: '<=', value: 1.3 },
        detail:
          `ensemble ${fmt(median(runs.ensemble.map((x) => x.p50)))} ms, efficientnetb0 ${fmt(median(runs.efficientnetb0.map((x) => x.p50)))} ms, ` +
          `mobilenetv2 ${fmt(median(runs.mobilenetv2.map((x) => x.p50)))} ms; per-round ratios ${fmt(ratio.min)}–${fmt(ratio.max)}, n=${ratio.n}; ` +
          `inside the ensemble: slower member call p50 ${fmt(insideSlower)} ms, ensemble total p50 ${fmt(median(inside.map((t) => t.totalMs)))} ms`,
      });
      return { split: run.answers.map((a) => ({ timings: a.timings, ensembleTimings: a.ensembleTimings })), latency: run.latencyMs, models: runs };
    } finally {
      await chain.stop();
      await pipeline.stop();
    }
  },
};
