/**
 * 11b. docker compose: docker-compose.yml (without Grafana, which cannot be had here) brought up
 * on the Docker engine with the four images built from the checkout (cache allowed; item 11's
 * `images` measures cold builds): the command to every health check passing, then the memory of
 * every container (docker stats) idle and as the peak while `/call-service-b` is saturated and
 * the edge has images in flight, the same load as the local stack's (`stack`).
 * tests/containers brings compose up and checks what it does; this says what it costs.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { dockerEngine, runCommand, toolPath, type DockerEngine } from '@meridian/test-kit';
import type { Comparison, Ctx } from './context';
import { build, IMAGES, usageMiB } from './images';
import { benchJpeg } from './inputs';
import { describeLoad } from './load';
import { EDGE_CONNECTIONS } from './memory';
import { ROOT } from './paths';
import { freePorts, sleep } from './procs';
import { suiteLoad } from './stack';
import { fmt } from './stats';

const PORT_VARS = [
  'COLLECTOR_GRPC_PORT', 'COLLECTOR_HTTP_PORT', 'JAEGER_UI_PORT', 'PROMETHEUS_PORT', 'ALERTMANAGER_PORT', 'GRAFANA_PORT',
  'SERVICE_A_PORT', 'SERVICE_B_PORT', 'ENSEMBLE_PORT', 'EFFICIENTNETB0_PORT', 'MOBILENETV2_PORT', 'EDGE_PORT',
];

/** Memory of every container of the project, MiB by compose service (one docker stats call). */
async function projectMiB(engine: DockerEngine, project: string): Promise<Record<string, number>> {
  const ids = (await engine.ok(['ps', '--quiet', '--filter', `label=com.docker.compose.project=${project}`])).split('\n').filter(Boolean);
  const out = await engine.ok(['stats', '--no-stream', '--format', '{{.Name}}\t{{.MemUsage}}', ...ids]);
  const prefix = `${project}-`;
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, usage] = line.split('\t');
        return [name.slice(prefix.length).replace(/-\d+$/, ''), usageMiB(usage)];
      }),
  );
}

const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
const per = (m: Record<string, number>) =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${Math.round(v)}`)
    .join(', ');

export const compose: Comparison = {
  name: 'compose',
  title: 'docker compose: time to every health check passing, memory per container idle and under load',
  items: [11],
  async run(ctx: Ctx) {
    const engine = await dockerEngine();
    const tag = `bench-${process.pid}`;
    const project = `meridian-bench-${process.pid}`;
    const built: string[] = [];
    const ports = await freePorts(PORT_VARS.length);
    const env: Record<string, string> = { ...engine.env, MERIDIAN_TAG: tag, EDGE_OTLP_TOKEN: randomBytes(24).toString('hex') } as Record<string, string>;
    PORT_VARS.forEach((v, i) => (env[v] = String(ports[i])));
    const composeCmd = (args: string[], timeoutMs = 300_000) =>
      runCommand(toolPath('docker-compose'), ['-p', project, '-f', 'docker-compose.yml', ...args], { cwd: ROOT, env, timeoutMs });
    try {
      const standins = await runCommand('bash', [`${ROOT}/scripts/images/standins.sh`, 'node', 'pipeline'], { env: engine.env, timeoutMs: 900_000 });
      if (standins.code !== 0) throw new Error(`stand-in images:\n${standins.output}`);
      for (const img of IMAGES) {
        const s = await build(engine, img, `${img.image}:${tag}`, ROOT, false);
        built.push(`${img.image}:${tag}`);
        ctx.log(`  ${img.image}: built in ${fmt(s)} s (cache allowed)`);
      }
      const services = (await composeCmd(['config', '--services'])).stdout.split('\n').filter((s) => s && s !== 'grafana');
      const t0 = performance.now();
      const up = await composeCmd(['up', '--detach', '--wait', '--wait-timeout', '300', '--no-build', '--pull', 'never', ...services], 420_000);
      if (up.code !== 0) throw new Error(`docker compose up:\n${up.output.slice(-3000)}`);
      const readyS = (performance.now() - t0) / 1000;
      ctx.log(`  ${services.length} services healthy in ${fmt(readyS)} s`);

      await sleep(ctx.settings.quick ? 5000 : 15_000);
      const idle = await projectMiB(engine, project);
      ctx.log(`  idle ${fmt(total(idle))} MiB: ${per(idle)}`);

      const seconds = ctx.settings.quick ? 3 : 8;
      const jpeg = (await benchJpeg()).toString('base64');
      const peak: Record<string, number> = {};
      let sampling = true;
      const sampler = (async () => {
        // docker stats costs the engine CPU the services then lack: one sample a second.
        while (sampling) {
          for (const [k, v] of Object.entries(await projectMiB(engine, project))) peak[k] = Math.max(peak[k] ?? 0, v);
          await sleep(1000);
        }
      })();
      const [ra, re] = await suiteLoad(`http://127.0.0.1:${env.SERVICE_A_PORT}`, `http://127.0.0.1:${env.EDGE_PORT}`, jpeg, seconds);
      sampling = false;
      await sampler;
      ctx.log(`  load service-a /call-service-b: ${describeLoad(ra)}`);
      ctx.log(`  load edge /preprocessing: ${describeLoad(re)}`);
      ctx.log(`  peak under load ${fmt(total(peak))} MiB: ${per(peak)}`);

      ctx.figure({
        id: 'compose.ready',
        item: 11,
        label: `docker compose up (${services.length} services, no Grafana) to every health check passing`,
        value: readyS,
        unit: 's',
        detail: 'images built beforehand; start order gated by health checks (start_period and interval of each)',
      });
      ctx.figure({
        id: 'compose.rss-idle',
        item: 11,
        label: 'docker compose: memory of all containers, idle (docker stats)',
        value: total(idle),
        unit: 'MiB',
        detail: per(idle),
      });
      ctx.figure({
        id: 'compose.rss-load',
        item: 11,
        label: `docker compose: memory of all containers under load (peak; /call-service-b saturated + edge ${EDGE_CONNECTIONS} images in flight, ${seconds} s)`,
        value: total(peak),
        unit: 'MiB',
        detail: per(peak),
      });
      return { readyS, idle, peak, load: { callServiceB: ra, edge: re } };
    } finally {
      await composeCmd(['down', '--volumes', '--remove-orphans', '--timeout', '10'], 180_000);
      for (const ref of built) await engine.docker(['rmi', ref]);
      await engine.stop();
    }
  },
};
