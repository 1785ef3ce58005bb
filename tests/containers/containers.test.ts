// Every image built for real from the repo's Dockerfiles, as a user builds it, on a real Docker
// engine (the user's own when DOCKER_HOST answers, else scripts/tools/docker-engine.sh's private
// one), FROM the stand-in node base where no registry can be pulled (scripts/images/standins.sh).
// Then each runs as the chart runs it: uid 10001, read-only root filesystem with a tmpfs /tmp,
// its HEALTHCHECK turns healthy, and SIGTERM ends it with exit code 0 within SHUTDOWN_TIMEOUT_MS,
// in-flight requests answered. Build times and image sizes are printed.
// Every container, network and image tag made here is removed again, also on failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerEngine, freePort, npmBuildSecrets, REPO_ROOT, request, runCommand, SKIP_CONTAINERS, SKIP_REASON, type DockerEngine } from '@meridian/test-kit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TAG = `test-${process.pid}`;

interface ImageCase {
  folder: string;
  image: string;
  /** Its Dockerfile and the build arguments that select the service in it. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** The container's port and what it needs to start. */
  port: number;
  env: Record<string, string>;
}

const IMAGES: ImageCase[] = [
  { folder: 'service-a', image: 'meridian/service-a', dockerfile: 'services/Dockerfile', buildArgs: { SERVICE: 'service-a', PORT: '8080' }, port: 8080, env: { SERVICE_B_URL: 'http://127.0.0.1:9', HASH_MAX_ITERATIONS: '3000000' } },
  { folder: 'service-b', image: 'meridian/service-b', dockerfile: 'services/Dockerfile', buildArgs: { SERVICE: 'service-b', PORT: '8081' }, port: 8081, env: {} },
  {
    folder: 'preprocessing-edge',
    image: 'meridian/preprocessing-edge',
    dockerfile: 'services/Dockerfile',
    buildArgs: { SERVICE: 'preprocessing-edge', PORT: '5010' },
    port: 5010, env: { INFERENCE_URL: 'http://127.0.0.1:9' } },
  { folder: 'inference', image: 'meridian/inference', dockerfile: 'services/inference/Dockerfile', buildArgs: {}, port: 8002, env: { ROLE: 'mobilenetv2' } },
];

describe('container images, built and run for real', { skip: SKIP_CONTAINERS ? SKIP_REASON : false, timeout: 1_500_000 }, () => {
  let engine: DockerEngine;
  const network = `meridian-images-${process.pid}`;
  const containers: string[] = [];
  const built: string[] = [];
  const figures: string[] = [];

  before(async () => {
    engine = await dockerEngine();
    const standins = await runCommand('bash', [`${REPO_ROOT}/scripts/images/standins.sh`, 'node'], { env: engine.env, timeoutMs: 600_000 });
    assert.equal(standins.code, 0, `stand-in images:\n${standins.output}`);
    await engine.ok(['network', 'create', network]);
  });

  after(async () => {
    if (!engine) return;
    for (const c of containers) await engine.docker(['rm', '-f', c]);
    await engine.docker(['network', 'rm', network]);
    for (const image of built) await engine.docker(['rmi', image]);
    if (figures.length) console.log(`# images: ${figures.join('; ')}`);
    await engine.stop();
  });

  for (const c of IMAGES) {
    test(`${c.image}: builds from ${c.dockerfile}, runs as 10001 read-only, turns healthy, stops cleanly on SIGTERM`, async (t) => {
      const ref = `${c.image}:${TAG}`;
      const secrets = npmBuildSecrets();
      const started = Date.now();
      try {
        // Host network for the build's npm ci: the private engine has no default bridge.
        const args = Object.entries(c.buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
        const b = await engine.docker(['build', '--network=host', ...secrets.args, ...args, '-f', c.dockerfile, '-t', ref, '.'], {
          cwd: REPO_ROOT,
          timeoutMs: 600_000,
        });
        assert.equal(b.code, 0, `docker build failed:\n${b.output.slice(-4000)}`);
      } finally {
        secrets.cleanup();
      }
      built.push(ref);
      const buildS = (Date.now() - started) / 1000;
      const size = Number(await engine.ok(['image', 'inspect', '--format', '{{.Size}}', ref]));
      assert.equal(await engine.ok(['image', 'inspect', '--format', '{{.Config.User}}', ref]), '10001:10001');

      const name = `meridian-${c.folder}-${process.pid}`;
      const hostPort = await freePort();
      const envArgs = Object.entries(c.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
      await engine.ok([
        'run', '-d', '--name', name, '--network', network, '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL',
        '--security-opt', 'no-new-privileges', '-p', `127.0.0.1:${hostPort}:${c.port}`, '-e', 'OTEL_TRACES_EXPORTER=none', ...envArgs, ref,
      ]);
      containers.push(name);
      assert.equal(await engine.ok(['exec', name, 'id', '-u']), '10001');

      // The image's own HEALTHCHECK: starting, then healthy.
      let health = '';
      const until = Date.now() + 120_000;
      while (Date.now() < until) {
        health = await engine.ok(['inspect', '--format', '{{.State.Health.Status}}', name]);
        if (health === 'healthy' || health === 'unhealthy') break;
        await sleep(1000);
      }
      const healthyS = (Date.now() - started) / 1000 - buildS;
      assert.equal(health, 'healthy', `health ${health}; logs:\n${(await engine.docker(['logs', '--tail', '30', name])).output}`);
      assert.equal((await request(`http://127.0.0.1:${hostPort}/healthy`)).status, 200, 'the published port answers');

      // SIGTERM with a request in flight (service-a: a hash that takes seconds).
      const inFlight =
        c.folder === 'service-a'
          ? request(`http://127.0.0.1:${hostPort}/hash`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'x', iterations: 1_000_000 }) }, 60_000)
          : undefined;
      if (inFlight) await sleep(300);
      const stopAt = Date.now();
      await engine.ok(['stop', '--time', '30', name]);
      const stopMs = Date.now() - stopAt;
      const exit = Number(await engine.ok(['inspect', '--format', '{{.State.ExitCode}}', name]));
      if (inFlight) assert.equal((await inFlight).status, 200, 'the request in flight at SIGTERM was answered');
      assert.equal(exit, 0, `exit code after SIGTERM; logs:\n${(await engine.docker(['logs', '--tail', '20', name])).output}`);
      assert.ok(stopMs < 10_000 + 2_000, `stopped in ${stopMs} ms (SHUTDOWN_TIMEOUT_MS 10000)`);

      const line = `${c.image} ${(size / 1024 / 1024).toFixed(0)} MB, built in ${buildS.toFixed(0)} s, healthy ${healthyS.toFixed(0)} s after start, SIGTERM to exit 0 in ${stopMs} ms`;
      figures.push(line);
      t.diagnostic(line);
    });
  }
});
