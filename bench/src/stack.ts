/**
 * 5b and 9. The whole local stack as `npm start` runs it (scripts/up.mjs --no-ensure, every port
 * moved to a free one): time from the command to every service ready, and the RSS of every process
 * it runs (services, collector, Jaeger, Prometheus, Alertmanager, VictoriaLogs, nginx, the console),
 * idle and under load (and their PSS idle).
 *
 * Install, build, model generation and the first build of the tools are excluded (--no-ensure,
 * tools cached): they happen once per checkout; `npm start` prints its own total.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCAL_STACK_PORT_VARS } from '@meridian/test-kit';
import type { Comparison, Ctx } from './context';
import { benchJpeg } from './inputs';
import { describeLoad, runLoad, type LoadResult } from './load';
import { EDGE_CONNECTIONS } from './memory';
import { ROOT } from './paths';
import { cmdline, descendants, environ, freePorts, isRunning, pssMiB, RssSampler, rssMiB, sleep, start, stop, failure, Tracked } from './procs';
import { fmt, median } from './stats';

interface Summary {
  readySeconds: number;
  urls: Record<string, string>;
}

interface StackRun {
  readyS: number;
  upReportedS: number;
  idle: Record<string, number>;
  /** PSS idle: the pages the processes share (the Node binary's code) counted once. */
  idlePss: Record<string, number>;
  load: Record<string, number>;
}

/** Processes of the stack by component name (nginx's master and workers together). */
function components(runner: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const pid of descendants(runner)) {
    const cmd = cmdline(pid);
    const exe = path.basename(cmd[0] ?? '');
    let name = environ(pid, 'OTEL_SERVICE_NAME') ?? (exe === 'otelcol' || exe.startsWith('otelcol') ? 'collector' : exe);
    if (exe === 'nginx' || cmd[0]?.startsWith('nginx')) name = 'edge-ingress (nginx)';
    if (exe === 'node' && !environ(pid, 'OTEL_SERVICE_NAME')) {
      // The console's server is part of the stack; other node processes are the runner's own.
      if (!cmd.some((a) => a.endsWith('console-server.cjs'))) continue;
      name = 'console';
    }
    out.set(name, [...(out.get(name) ?? []), pid]);
  }
  return out;
}

function memoryOf(parts: Map<string, number[]>, of: (pid: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [name, pids] of parts) {
    out[name] = pids.reduce((s, p) => s + (of(p) || 0), 0);
    total += out[name];
  }
  out['(total)'] = total;
  return out;
}

async function bootStack(ctx: Ctx): Promise<{ runner: Tracked; summary: Summary; readyS: number; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-stack-'));
  const ports = await freePorts(LOCAL_STACK_PORT_VARS.length);
  const env: Record<string, string> = { NO_COLOR: '1', MERIDIAN_RUN_DIR: path.join(dir, 'run') };
  LOCAL_STACK_PORT_VARS.forEach((name, i) => (env[name] = String(ports[i])));
  const summaryFile = path.join(dir, 'summary.json');
  const t0 = performance.now();
  const runner = start('npm start (up.mjs)', process.execPath, [path.join(ROOT, 'scripts/up.mjs'), '--no-ensure', '--summary', summaryFile], {
    cwd: ROOT,
    env,
    // Its own process group: everything it started goes with it, even if it hangs.
    group: true,
  });
  while (!existsSync(summaryFile)) {
    if (!isRunning(runner)) throw failure(runner, 'exited before the stack was ready');
    if (performance.now() - t0 > 120_000) throw failure(runner, 'not ready within 120 s');
    await sleep(50);
  }
  const readyS = (performance.now() - t0) / 1000;
  await sleep(100); // the summary is written in one call, but read it whole
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
  ctx.log(`  stack ready in ${readyS.toFixed(1)} s (up.mjs reports ${summary.readySeconds.toFixed(1)} s)`);
  return { runner, summary, readyS, dir };
}

/**
 * The whole suite under load, as the stack and compose comparisons load it: service-a's
 * /call-service-b saturated by 16 connections and the edge with EDGE_CONNECTIONS images in flight,
 * both for `seconds`. jpeg is base64.
 */
export function suiteLoad(serviceA: string, edge: string, jpeg: string, seconds: number): Promise<[LoadResult, LoadResult]> {
  return Promise.all([
    runLoad({ url: `${serviceA}/call-service-b`, connections: 16, seconds, warmupSeconds: 0 }),
    runLoad({
      url: `${edge}/preprocessing`,
      method: 'POST',
      bodyBase64: jpeg,
      headers: { 'content-type': 'image/jpeg' },
      connections: EDGE_CONNECTIONS,
      seconds,
      warmupSeconds: 0,
    }),
  ]);
}

export const stack: Comparison = {
  name: 'stack',
  title: 'Whole local stack (npm start): time to ready, and RSS of every process idle and under load',
  items: [5, 9],
  async run(ctx: Ctx) {
    const jpeg = (await benchJpeg()).toString('base64');
    const seconds = ctx.settings.quick ? 3 : 8;
    const runs: StackRun[] = [];
    for (let r = 0; r < ctx.settings.fewRounds; r++) {
      ctx.log(`round ${r + 1}/${ctx.settings.fewRounds}: starting the stack`);
      const { runner, summary, readyS, dir } = await bootStack(ctx);
      try {
        await sleep(ctx.settings.quick ? 2000 : 5000);
        const parts = components(runner.pid);
        const idle = memoryOf(parts, rssMiB);
        const idlePss = memoryOf(parts, pssMiB);
        const byPart = (m: Record<string, number>) => Object.entries(m).filter(([k]) => k !== '(total)').map(([k, v]) => `${k} ${Math.round(v)}`).join(', ');
        ctx.log(`  idle RSS ${fmt(idle['(total)'])} MiB: ${byPart(idle)}`);
        ctx.log(`  idle PSS ${fmt(idlePss['(total)'])} MiB: ${byPart(idlePss)}`);
        const sampler = new RssSampler(parts);
        const [ra, re] = await suiteLoad(summary.urls['service-a'], summary.urls['preprocessing-edge'], jpeg, seconds);
        const load = Object.fromEntries(sampler.stop());
        ctx.log(`  load service-a /call-service-b: ${describeLoad(ra)}`);
        ctx.log(`  load edge /preprocessing: ${describeLoad(re)}`);
        ctx.log(`  peak RSS under load ${fmt(load['(total)'])} MiB: ${byPart(load)}`);
        runs.push({ readyS, upReportedS: summary.readySeconds, idle, idlePss, load });
      } finally {
        await stop(runner, 40_000, 'SIGINT');
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const ready = runs.map((r) => r.readyS);
    ctx.figure({
      id: 'stack.ready',
      item: 5,
      label: 'Whole stack: `npm start` (up.mjs --no-ensure) to every service ready',
      value: median(ready),
      unit: 's',
      target: { op: '<=', value: 30 },
      detail: `rounds: ${ready.map((x) => fmt(x)).join(', ')} s; tools cached, install/build/models excluded`,
    });
    const names = Object.keys(runs[0].load).filter((k) => k !== '(total)');
    const per = (phase: 'idle' | 'idlePss' | 'load') => names.map((n) => `${n} ${Math.round(median(runs.map((r) => r[phase][n] ?? NaN)))}`).join(', ');
    ctx.figure({
      id: 'stack.rss-idle',
      item: 9,
      label: 'Whole suite RSS idle (6 services, collector, Jaeger, Prometheus, Alertmanager, VictoriaLogs, Perses, nginx, console)',
      value: median(runs.map((r) => r.idle['(total)'])),
      unit: 'MiB',
      target: { op: '<=', value: 1024 },
      detail: per('idle'),
    });
    ctx.figure({
      id: 'stack.pss-idle',
      item: 9,
      label: 'Whole suite PSS idle (the same processes; pages they share, such as the Node binary, counted once)',
      value: median(runs.map((r) => r.idlePss['(total)'])),
      unit: 'MiB',
      detail: per('idlePss'),
    });
    ctx.figure({
      id: 'stack.rss-load',
      item: 9,
      label: `Whole suite RSS under load (peak; /call-service-b saturated + edge ${EDGE_CONNECTIONS} images in flight, ${seconds} s)`,
      value: median(runs.map((r) => r.load['(total)'])),
      unit: 'MiB',
      target: { op: '<=', value: 1536 },
      detail: per('load'),
    });
    return runs;
  },
};
