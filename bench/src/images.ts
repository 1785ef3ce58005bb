/**
 * 11. Container images: each of the four images built from its Dockerfile on the Docker engine
 * (DOCKER_HOST, else the private one of scripts/tools/docker-engine.sh), cold (`--no-cache`) and
 * then again with the cache after a change to the service's sources; its size against the bare
 * node base image; and the RSS of each container idle, 15 s after it turned healthy (docker stats).
 * tests/containers/containers.test.ts checks that they build and run; this says what they cost.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerEngine, npmBuildSecrets, pinnedVersions, runCommand, type DockerEngine } from '@meridian/test-kit';
import type { Comparison, Ctx } from './context';
import { ROOT } from './paths';
import { sleep } from './procs';
import { fmt } from './stats';

interface Image {
  folder: string;
  image: string;
  /** Build arguments that select the service in services/Dockerfile; inference has its own Dockerfile. */
  buildArgs?: Record<string, string>;
  env: string[];
}

export const IMAGES: Image[] = [
  { folder: 'service-a', image: 'meridian/service-a', buildArgs: { SERVICE: 'service-a', PORT: '8080' }, env: ['SERVICE_B_URL=http://127.0.0.1:9'] },
  { folder: 'service-b', image: 'meridian/service-b', buildArgs: { SERVICE: 'service-b', PORT: '8081' }, env: [] },
  { folder: 'preprocessing-edge', image: 'meridian/preprocessing-edge', buildArgs: { SERVICE: 'preprocessing-edge', PORT: '5010' }, env: ['INFERENCE_URL=http://127.0.0.1:9'] },
  { folder: 'inference', image: 'meridian/inference', env: ['ROLE=mobilenetv2'] },
];

const MiB = 1024 * 1024;
/** The base image of every Dockerfile here: the Node of scripts/tools/versions.env. */
const NODE_BASE = `node:${pinnedVersions().NODE_MAJOR}-bookworm-slim`;

export async function build(engine: DockerEngine, img: Image, tag: string, context: string, noCache: boolean): Promise<number> {
  const secrets = npmBuildSecrets();
  const t0 = performance.now();
  try {
    const file = img.buildArgs ? 'services/Dockerfile' : `services/${img.folder}/Dockerfile`;
    const args = Object.entries(img.buildArgs ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
    await engine.ok(['build', '--network=host', ...(noCache ? ['--no-cache'] : []), ...secrets.args, ...args, '-f', file, '-t', tag, '.'], {
      cwd: context,
      timeoutMs: 900_000,
    });
  } finally {
    secrets.cleanup();
  }
  return (performance.now() - t0) / 1000;
}

/** VmRSS-like figure of a running container, MiB (docker stats' memory usage). */
async function containerMiB(engine: DockerEngine, name: string): Promise<number> {
  return usageMiB(await engine.ok(['stats', '--no-stream', '--format', '{{.MemUsage}}', name]));
}

/** MiB of docker stats' MemUsage ("98.5MiB / 23.4GiB"). */
export function usageMiB(usage: string): number {
  const m = /^([\d.]+)\s*([KMG]i?B)/.exec(usage);
  if (!m) return NaN;
  const unit = { KiB: 1 / 1024, KB: 1 / 1024, MiB: 1, MB: 1, GiB: 1024, GB: 1024 }[m[2]] ?? NaN;
  return Number(m[1]) * unit;
}

export const images: Comparison = {
  name: 'images',
  title: 'Container images: cold and cached build time, size against the node base, idle RSS per container',
  items: [11],
  async run(ctx: Ctx) {
    const engine = await dockerEngine();
    const tag = `bench-${process.pid}`;
    const network = `meridian-bench-${process.pid}`;
    // A copy of the sources, so that "a change to the service" does not touch the checkout.
    const context = mkdtempSync(path.join(os.tmpdir(), 'meridian-bench-context-'));
    const created: string[] = [];
    try {
      const standins = await runCommand('bash', [path.join(ROOT, 'scripts/images/standins.sh'), 'node'], { env: engine.env, timeoutMs: 600_000 });
      if (standins.code !== 0) throw new Error(`stand-in images:\n${standins.output}`);
      const git = await runCommand('bash', ['-c', `git -C "${ROOT}" ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "${context}"`], { timeoutMs: 120_000 });
      if (git.code !== 0) throw new Error(`copying the sources: ${git.output}`);
      const base = Number(await engine.ok(['image', 'inspect', '--format', '{{.Size}}', NODE_BASE])) / MiB;
      await engine.ok(['network', 'create', network]);
      for (const img of IMAGES) {
        const ref = `${img.image}:${tag}`;
        ctx.log(`  ${img.image}: building without cache…`);
        const cold = await build(engine, img, ref, context, true);
        created.push(ref);
        // One source file of the service changed: the dependency layers stay cached.
        appendFileSync(path.join(context, 'services', img.folder, 'src/main.ts'), `\n// bench ${Date.now()}\n`);
        const cached = await build(engine, img, ref, context, false);
        const size = Number(await engine.ok(['image', 'inspect', '--format', '{{.Size}}', ref])) / MiB;
        const name = `meridian-bench-${img.folder}-${process.pid}`;
        await engine.ok(['run', '-d', '--name', name, '--network', network, '--read-only', '--tmpfs', '/tmp', '-e', 'OTEL_TRACES_EXPORTER=none', ...img.env.flatMap((e) => ['-e', e]), ref]);
        created.push(`container:${name}`);
        let health = '';
        for (let i = 0; i < 120 && health !== 'healthy'; i++) {
          await sleep(1000);
          health = await engine.ok(['inspect', '--format', '{{.State.Health.Status}}', name]);
        }
        await sleep(15_000);
        const rss = await containerMiB(engine, name);
        await engine.docker(['rm', '-f', name]);
        ctx.log(`  ${img.image}: cold ${fmt(cold)} s, cached ${fmt(cached)} s, ${fmt(size)} MiB, idle ${fmt(rss)} MiB (${health})`);
        ctx.figure({
          id: `images.${img.folder}.size`,
          item: 11,
          label: `${img.image} image size ÷ ${NODE_BASE}`,
          value: size / base,
          unit: '',
          detail: `${fmt(size)} MiB against the base's ${fmt(base)} MiB`,
        });
        ctx.figure({
          id: `images.${img.folder}.build`,
          item: 11,
          label: `${img.image} build time, cold (no cache)`,
          value: cold,
          unit: 's',
          detail: `after a change to src/main.ts, with the cache: ${fmt(cached)} s`,
        });
        ctx.figure({
          id: `images.${img.folder}.rss`,
          item: 11,
          label: `${img.image} container memory, idle`,
          value: rss,
          unit: 'MiB',
          detail: `docker stats 15 s after healthy; ${health}`,
        });
      }
      return { baseMiB: base };
    } finally {
      for (const c of created) await engine.docker(c.startsWith('container:') ? ['rm', '-f', c.slice('container:'.length)] : ['rmi', c]);
      await engine.docker(['network', 'rm', network]);
      rmSync(context, { recursive: true, force: true });
      await engine.stop();
    }
  },
};
