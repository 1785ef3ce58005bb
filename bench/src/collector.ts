/**
 * 7. The collector: CPU per 10,000 spans per second and dropped spans, at a fixed span rate from
 * spangen.ts (OTLP/HTTP protobuf, batches of 250 four-span traces shaped like service-a's), with
 * the project's collector config exporting to a real Jaeger.
 */
import path from 'node:path';
import type { Comparison, Ctx } from './context';
import { counterDelta, spanCounters, startPipeline } from './pipeline';
import { CpuWindow, failure, sleep, start } from './procs';
import type { SpanGenOutput, SpanGenSpec } from './spangen';
import { fmt, median } from './stats';

export const SPAN_RATE = 10_000;
const BATCH = 250;

async function generate(spec: SpanGenSpec): Promise<SpanGenOutput> {
  const gen = start('spangen', process.execPath, [path.join(__dirname, 'spangen.js'), JSON.stringify(spec)], { keepStdout: true });
  const code = await gen.exited;
  const line = gen.tail.filter((l) => l.startsWith('{')).pop();
  if (code !== 0 || !line) throw failure(gen, 'failed');
  return JSON.parse(line) as SpanGenOutput;
}

interface Round {
  idleCores: number;
  collectorCores: number;
  jaegerCores: number;
  gen: SpanGenOutput;
  dropped: number;
  counters: ReturnType<typeof counterDelta>;
}

export const collector: Comparison = {
  name: 'collector',
  title: `Collector CPU per 10,000 spans/s and dropped spans, at ${SPAN_RATE.toLocaleString('en-US')} spans/s (OTLP/HTTP protobuf, export to Jaeger)`,
  items: [7],
  async run(ctx: Ctx) {
    const seconds = ctx.settings.quick ? 4 : 10;
    const idleSeconds = ctx.settings.quick ? 2 : 3;
    const pipeline = await startPipeline();
    const rounds: Round[] = [];
    try {
      const pids = [pipeline.collector.pid];
      // A short first burst: connections, Go runtime warm-up.
      await generate({ url: `${pipeline.otlpHttp}/v1/traces`, spansPerSecond: SPAN_RATE, batch: BATCH, seconds: 1 });
      for (let r = 0; r < ctx.settings.fewRounds; r++) {
        ctx.log(`round ${r + 1}/${ctx.settings.fewRounds}: idle ${idleSeconds} s, then ${SPAN_RATE} spans/s for ${seconds} s`);
        await sleep(1500); // let the last round's batches leave
        const idle = new CpuWindow(pids);
        await sleep(idleSeconds * 1000);
        const idleCores = idle.cores();
        const before = await spanCounters(pipeline);
        const col = new CpuWindow(pids);
        const jae = new CpuWindow([pipeline.jaeger.pid]);
        const gen = await generate({ url: `${pipeline.otlpHttp}/v1/traces`, spansPerSecond: SPAN_RATE, batch: BATCH, seconds });
        const collectorCores = col.cores();
        const jaegerCores = jae.cores();
        // The batch processor holds up to 1 s; export failures show after it.
        await sleep(1500);
        const counters = counterDelta(before, await spanCounters(pipeline));
        const dropped = counters.refused + counters.receiverFailed + counters.sendFailed + counters.enqueueFailed + gen.spansFailed;
        rounds.push({ idleCores, collectorCores, jaegerCores, gen, dropped, counters });
        ctx.log(
          `  sent ${fmt(gen.spansSent)} spans at ${fmt(gen.spansPerSecond)}/s (generator ${gen.generatorCores.toFixed(2)} cores, ${gen.batchesSkipped} batches skipped); ` +
            `collector ${collectorCores.toFixed(3)} cores (idle ${idleCores.toFixed(3)}), Jaeger ${jaegerCores.toFixed(3)} cores; ` +
            `accepted ${fmt(counters.accepted)}, exported ${fmt(counters.sent)}, refused ${counters.refused}, send failed ${counters.sendFailed}, enqueue failed ${counters.enqueueFailed}`,
        );
      }
    } finally {
      await pipeline.stop();
    }
    const per10k = rounds.map((r) => r.collectorCores / (r.gen.spansPerSecond / 10_000));
    const net = rounds.map((r) => (r.collectorCores - r.idleCores) / (r.gen.spansPerSecond / 10_000));
    const gen = median(rounds.map((r) => r.gen.generatorCores));
    ctx.figure({
      id: 'collector.cores-per-10k',
      item: 7,
      label: 'Collector CPU per 10,000 spans/s',
      value: median(per10k),
      unit: 'cores',
      target: { op: '<=', value: 0.1 },
      detail:
        `at ${fmt(median(rounds.map((r) => r.gen.spansPerSecond)))} spans/s; net of idle ${fmt(median(net))} cores; ` +
        `Jaeger ${fmt(median(rounds.map((r) => r.jaegerCores)))} cores meanwhile; span generator ${gen.toFixed(2)} cores; rounds ${rounds.length}`,
    });
    const dropped = rounds.reduce((s, r) => s + r.dropped, 0);
    const sent = rounds.reduce((s, r) => s + r.gen.spansSent, 0);
    ctx.figure({
      id: 'collector.dropped',
      item: 7,
      label: `Spans dropped at ${SPAN_RATE.toLocaleString('en-US')} spans/s`,
      value: dropped,
      unit: 'spans',
      target: { op: '<=', value: 0 },
      detail: `of ${fmt(sent)} sent; refused + failed at the receiver, send-failed + enqueue-failed at the Jaeger exporter, and rejected in answers`,
    });
    return rounds;
  },
};
