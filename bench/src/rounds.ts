/** Running sides alternately, round by round, and saturating one URL. */
import path from 'node:path';
import type { Ctx } from './context';
import { describeLoad, GENERATOR_SATURATED_CORES, LoadResult, LoadSpec, runLoad } from './load';
import { fmt, median, medianPairedRatio, Target } from './stats';
import { start, stop, Tracked, waitReady, freePort } from './procs';

/** Side order of round r (0-based): rotated by r, so no side always runs first or last. */
export function roundOrder<S>(sides: readonly S[], r: number): S[] {
  const k = r % sides.length;
  return [...sides.slice(k), ...sides.slice(0, k)];
}

/**
 * Runs fn for every side in every round; results per side, index = round. A side given fewer
 * rounds in roundsOf runs in the first ones only, still alternating with the others.
 */
export async function alternate<S extends string, R>(
  ctx: Ctx,
  sides: readonly S[],
  rounds: number,
  fn: (side: S, round: number) => Promise<R>,
  roundsOf: Partial<Record<S, number>> = {},
): Promise<Record<S, R[]>> {
  const out = Object.fromEntries(sides.map((s) => [s, [] as R[]])) as Record<S, R[]>;
  for (let r = 0; r < rounds; r++) {
    for (const side of roundOrder(sides, r)) {
      if (r >= (roundsOf[side] ?? rounds)) continue;
      ctx.log(`round ${r + 1}/${rounds} ${side}`);
      out[side][r] = await fn(side, r);
    }
  }
  return out;
}

/** 32 connections: enough to keep one Node.js server busy on loopback without queueing for long. */
export const SATURATION_CONNECTIONS = 32;

/** Load as fast as the server answers, for ctx.settings.seconds after a warm-up; logs the result. */
export async function saturate(ctx: Ctx, spec: Partial<LoadSpec> & { url: string }, serverPids: number[], label = ''): Promise<LoadResult> {
  const r = await runLoad(
    { connections: SATURATION_CONNECTIONS, seconds: ctx.settings.seconds, warmupSeconds: ctx.settings.warmup, ...spec },
    serverPids,
  );
  ctx.log(`  ${label ? `${label}: ` : ''}${describeLoad(r)}`);
  if (r.errors || r.non2xx) ctx.note(`${label || spec.url}: ${r.errors} errors and ${r.non2xx} non-2xx answers during the run`);
  return r;
}

const BARE_APPS = path.join(__dirname, 'bare-apps.js');

/** One bare app (bare-apps.ts) on a free port, ready to answer GET /. */
export async function startBareApp(stack: string, env: Record<string, string> = {}): Promise<{ proc: Tracked; url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = start(stack, process.execPath, [BARE_APPS, stack, String(port)], { env });
  const url = `http://127.0.0.1:${port}/`;
  try {
    await waitReady(proc, url, performance.now(), 30_000, 50);
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return { proc, url, stop: () => stop(proc) };
}

/** Records median(a[i].rps / b[i].rps) with both sides' absolute figures and generator CPU. */
export function rpsRatioFigure(
  ctx: Ctx,
  f: { id: string; item: number; label: string; target?: Target },
  a: LoadResult[],
  b: LoadResult[],
  names: [string, string],
): number {
  const ratio = medianPairedRatio(
    a.map((r) => r.rps),
    b.map((r) => r.rps),
  );
  const side = (rs: LoadResult[], name: string) => {
    const gen = median(rs.map((r) => r.generatorCores));
    return (
      `${name} ${fmt(median(rs.map((r) => r.rps)))} req/s (server ${median(rs.map((r) => r.serverCores)).toFixed(2)}, ` +
      `generator ${gen.toFixed(2)} cores${gen >= GENERATOR_SATURATED_CORES ? ', GENERATOR SATURATED' : ''})`
    );
  };
  // Requests per server CPU-second: on a busy shared machine the server rarely gets a whole core,
  // and this ratio (the inverse of CPU per request) is steadier than the throughput ratio.
  const perCore = medianPairedRatio(
    a.map((r) => r.rps / r.serverCores),
    b.map((r) => r.rps / r.serverCores),
  );
  ctx.figure({
    ...f,
    value: ratio.median,
    unit: '',
    detail:
      `${side(a, names[0])} vs ${side(b, names[1])}; per-round ratios ${fmt(ratio.min)}–${fmt(ratio.max)}, n=${ratio.n}; ` +
      `requests per server CPU-second ratio ${fmt(perCore.median)}`,
  });
  return ratio.median;
}
