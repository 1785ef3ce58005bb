/**
 * `npm run bench [-- [--quick] [comparison ...]]`: runs the chosen comparisons (all by default),
 * each with its sides alternating round by round on this machine, and writes
 * bench/results/latest.{json,md} and the generated section of docs/benchmarks.md. A comparison run
 * alone replaces only its own entry, so each can be rerun.
 *
 * Ratios and differences are what count; absolute figures are printed for context, never asserted.
 */
import { adapters } from './adapters';
import { coldstart } from './coldstart';
import { collector } from './collector';
import { connections } from './connections';
import { Comparison, ComparisonResult, Ctx, FULL, QUICK } from './context';
import { edge } from './edge';
import { framework } from './framework';
import { hop } from './hop';
import { compose } from './compose';
import { images } from './images';
import { memory } from './memory';
import { stopAll, stopAllSync } from './procs';
import { loadResults, machine, Results, versions, write } from './report';
import { checkBuilt } from './services';
import { scrape } from './scrape';
import { stack } from './stack';
import { tracing } from './tracing';

/** In the order of the benchmark list (docs/benchmarks.md). */
export const COMPARISONS: Comparison[] = [tracing, framework, adapters, hop, memory, coldstart, scrape, collector, edge, stack, connections, images, compose];

function usage(): string {
  return [
    'npm run bench [-- [--quick] [comparison ...]]',
    '',
    '  --quick   a couple of seconds per side, fewer rounds (development; figures are noisy)',
    '  --list    list the comparisons',
    '',
    'Comparisons (default: all):',
    ...COMPARISONS.map((c) => `  ${c.name.padEnd(10)} ${c.title}`),
    '',
  ].join('\n');
}

let stopping = false;
function onSignal(sig: NodeJS.Signals): void {
  if (stopping) {
    stopAllSync();
    process.exit(130);
  }
  stopping = true;
  process.stderr.write(`\n${sig}: stopping every process the benchmark started (again to force)\n`);
  void stopAll().finally(() => process.exit(130));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h') || args.includes('--list')) {
    process.stdout.write(usage());
    return;
  }
  const quick = args.includes('--quick');
  const names = args.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !COMPARISONS.some((c) => c.name === n));
  if (unknown.length) {
    process.stderr.write(`unknown comparison(s): ${unknown.join(', ')}\n\n${usage()}`);
    process.exit(2);
  }
  const chosen = names.length ? COMPARISONS.filter((c) => names.includes(c.name)) : COMPARISONS;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  checkBuilt();

  const settings = quick ? QUICK : FULL;
  const previous = loadResults();
  const results: Results = { machine: machine(), versions: versions(), comparisons: { ...(previous?.comparisons ?? {}) } };
  const runStarted = performance.now();
  process.stdout.write(
    `${quick ? 'Quick' : 'Full'} run of ${chosen.map((c) => c.name).join(', ')} on ${results.machine.cpus} × ${results.machine.model} ` +
      `(load average ${results.machine.loadAverage1m}); ${settings.rounds} rounds of ${settings.seconds} s per side after ${settings.warmup} s of warm-up\n`,
  );
  const failed: string[] = [];
  for (const c of chosen) {
    const ctx = new Ctx(c.name, settings, runStarted);
    ctx.log(c.title);
    const t0 = performance.now();
    try {
      const raw = await c.run(ctx);
      const result: ComparisonResult = {
        name: c.name,
        title: c.title,
        date: new Date().toISOString(),
        quick,
        seconds: (performance.now() - t0) / 1000,
        figures: ctx.figures,
        notes: ctx.notes,
        raw,
      };
      results.comparisons[c.name] = result;
      ctx.log(`done in ${Math.round(result.seconds)} s`);
    } catch (err) {
      if (stopping) return;
      failed.push(c.name);
      process.stderr.write(`[${c.name}] failed: ${err instanceof Error ? err.stack ?? err.message : err}\n`);
      await stopAll();
    }
    // Results so far are kept even if a later comparison fails or the run is interrupted.
    write(results, COMPARISONS.map((x) => x.name));
  }
  const { md } = write(results, COMPARISONS.map((x) => x.name));
  process.stdout.write(`\nWrote bench/results/latest.json, ${md.replace(/.*\/bench\//, 'bench/')} and the table in docs/benchmarks.md ` + `(${Math.round((performance.now() - runStarted) / 1000)} s)\n`);
  const misses = chosen.flatMap((c) => (results.comparisons[c.name]?.figures ?? []).filter((f) => f.met === false).map((f) => `  ${c.name}: ${f.label}`));
  if (misses.length) process.stdout.write(`Targets not met:\n${misses.join('\n')}\n`);
  if (failed.length) {
    process.stderr.write(`Failed: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : err}\n`);
  await stopAll();
  process.exit(1);
});
