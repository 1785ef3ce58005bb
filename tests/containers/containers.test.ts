// The containers for real, on a real Docker engine (the user's own when DOCKER_HOST answers, else
// scripts/tools/docker-engine.sh's private one), FROM local stand-ins of the upstream images where
// no registry can be pulled (scripts/images/standins.sh):
// 1. every image built from the repo's Dockerfiles, as a user builds it, then run as the chart runs
//    it: uid 10001, read-only root filesystem with a tmpfs /tmp, its HEALTHCHECK turns healthy, and
//    SIGTERM ends it with exit code 0 within SHUTDOWN_TIMEOUT_MS, in-flight requests answered;
// 2. docker-compose.yml brought up with those images (Grafana left out: it cannot be had here),
//    one edge request traced across four services in the compose Jaeger, every Prometheus target
//    up and the rules loaded; `down -v` leaves nothing;
// 3. deploy/compose/edge.yml's edge device against the local run (`npm start`'s stack): through its
//    TLS ingress with the token its spans join the cloud trace; with a wrong one the ingress
//    answers 401 and the collector stores nothing from it.
// Build times, image sizes and compose start-up times are printed. One file, so the images are
// built once and two heavy builds never share the two cores. Every container, network, volume and
// image tag made here is removed again, also on failure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { parse } from 'yaml';
import {
  dockerEngine,
  freePort,
  LocalStack,
  npmBuildSecrets,
  parsePrometheus,
  poll,
  queryLogs,
  REPO_ROOT,
  request,
  runCommand,
  SKIP_CONTAINERS,
  SKIP_REASON,
  toolPath,
  type CommandResult,
  type DockerEngine,
} from '@meridian/test-kit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TAG = `test-${process.pid}`;

let engine: DockerEngine;
const network = `meridian-images-${process.pid}`;
const containers: string[] = [];
const built: string[] = [];
const figures: string[] = [];
/** Compose projects brought up here (files and variables), taken down again in after() if a test did not. */
const projects = new Map<string, { files: string[]; env: Record<string, string> }>();

before(async () => {
  if (SKIP_CONTAINERS) return;
  engine = await dockerEngine();
  const standins = await runCommand('bash', [`${REPO_ROOT}/scripts/images/standins.sh`, 'node', 'pipeline'], { env: engine.env, timeoutMs: 900_000 });
  assert.equal(standins.code, 0, `stand-in images:\n${standins.output}`);
  await engine.ok(['network', 'create', network]);
});

after(async () => {
  if (!engine) return;
  // The edge project first: its container holds on to the cloud project's network.
  for (const [project, { files, env }] of [...projects].reverse()) {
    await compose(project, files, env, ['down', '--volumes', '--remove-orphans', '--timeout', '10'], 180_000);
  }
  for (const c of containers) await engine.docker(['rm', '-f', c]);
  await engine.docker(['network', 'rm', network]);
  for (const image of built) await engine.docker(['rmi', image]);
  if (figures.length) console.log(`# containers: ${figures.join('; ')}`);
  await engine.stop();
});

/** docker compose (v2, bin/docker-compose) on the engine, from the repository root. */
function compose(project: string, files: string[], env: Record<string, string>, args: string[], timeoutMs = 120_000): Promise<CommandResult> {
  const fileArgs = files.flatMap((f) => ['-f', f]);
  return runCommand(toolPath('docker-compose'), ['-p', project, ...fileArgs, ...args], {
    cwd: REPO_ROOT,
    env: { ...engine.env, ...env },
    timeoutMs,
  });
}

async function composeOk(project: string, files: string[], env: Record<string, string>, args: string[], timeoutMs?: number): Promise<string> {
  const r = await compose(project, files, env, args, timeoutMs);
  if (r.code !== 0) {
    const logs = await compose(project, files, env, ['logs', '--no-color', '--tail', '15']);
    assert.fail(`docker compose ${args.join(' ')} exited ${r.code}:\n${r.output.slice(-3000)}\n--- logs ---\n${logs.output.slice(-6000)}`);
  }
  return r.stdout.trim();
}

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

// ------------------------------------------------------------------------------------ compose

interface JaegerTrace {
  traceID: string;
  spans: { spanID: string; processID: string; tags: { key: string; value: unknown }[] }[];
  processes: Record<string, { serviceName: string }>;
}

const CLOUD_PROJECT = `meridian-test-${process.pid}`;
const EDGE_PROJECT = `meridian-test-edge-${process.pid}`;
const CLOUD_FILES = ['docker-compose.yml'];
const EDGE_FILES = ['deploy/compose/edge.yml', 'deploy/compose/edge.host.yml'];
const servicesOf = (trace: JaegerTrace) => new Set(trace.spans.map((s) => trace.processes[s.processID].serviceName));
const EDGE_TRACE_SERVICES = ['preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];

describe('docker compose up, for real', { skip: SKIP_CONTAINERS ? SKIP_REASON : false, timeout: 1_200_000 }, () => {
  const token = randomBytes(24).toString('hex');
  // The host ports, moved to free ones by the variables the compose file takes for each.
  const portVars = [
    'COLLECTOR_GRPC_PORT', 'COLLECTOR_HTTP_PORT', 'JAEGER_UI_PORT', 'PROMETHEUS_PORT', 'ALERTMANAGER_PORT', 'VICTORIALOGS_PORT', 'GRAFANA_PORT',
    'SERVICE_A_PORT', 'SERVICE_B_PORT', 'ENSEMBLE_PORT', 'EFFICIENTNETB0_PORT', 'MOBILENETV2_PORT', 'EDGE_PORT',
  ];
  const env: Record<string, string> = { MERIDIAN_TAG: TAG, EDGE_OTLP_TOKEN: token, MERIDIAN_BIND: '127.0.0.1' };
  const url = (v: string) => `http://127.0.0.1:${env[v]}`;
  let image: Buffer;

  before(async () => {
    for (const v of portVars) env[v] = String(await freePort());
    image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
  });

  async function edgeTrace(port: string, wanted: string[]): Promise<JaegerTrace> {
    const res = await request(`http://127.0.0.1:${port}/preprocessing`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image }, 60_000);
    assert.equal(res.status, 200, res.text);
    const traceId = (res.json as { traceId: string }).traceId;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    return poll(`trace ${traceId} with ${wanted.join(', ')} in the compose Jaeger`, async () => {
      const r = await request(`${url('JAEGER_UI_PORT')}/api/traces/${traceId}`);
      const trace = r.status === 200 ? (r.json as { data: JaegerTrace[] }).data[0] : undefined;
      const have = new Set(Object.values(trace?.processes ?? {}).map((p) => p.serviceName));
      return trace && wanted.every((s) => have.has(s)) ? trace : undefined;
    }, 60_000);
  }

  test('docker-compose.yml without Grafana comes up until every health check passes', async (t) => {
    const all = (await composeOk(CLOUD_PROJECT, CLOUD_FILES, env, ['config', '--services'])).split('\n');
    assert.ok(all.includes('grafana'), 'the file has Grafana');
    const services = all.filter((s) => s !== 'grafana');
    projects.set(CLOUD_PROJECT, { files: CLOUD_FILES, env });
    const started = Date.now();
    await composeOk(CLOUD_PROJECT, CLOUD_FILES, env, ['up', '--detach', '--wait', '--wait-timeout', '300', '--no-build', '--pull', 'never', ...services], 420_000);
    const upS = (Date.now() - started) / 1000;
    // One JSON object per line (compose v2.21 and later).
    const ps = (await composeOk(CLOUD_PROJECT, CLOUD_FILES, env, ['ps', '--format', 'json']))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { Service: string; State: string; Health: string });
    assert.deepEqual(ps.map((p) => p.Service).sort(), [...services].sort(), 'one container per service, Grafana left out');
    for (const p of ps) {
      assert.equal(p.State, 'running', `${p.Service}: ${p.State}`);
      if (p.Service !== 'collector') assert.equal(p.Health, 'healthy', `${p.Service}: ${p.Health}`);
    }
    figures.push(`compose: ${services.length} services up and healthy in ${upS.toFixed(0)} s`);
    t.diagnostic(figures.at(-1)!);
  });

  test('a POST to the edge gives one trace in the compose Jaeger across the edge, the ensemble and both models, and its log lines in the compose VictoriaLogs', async (t) => {
    const sent = Date.now();
    const trace = await edgeTrace(env.EDGE_PORT, EDGE_TRACE_SERVICES);
    assert.deepEqual([...servicesOf(trace)].sort(), [...EDGE_TRACE_SERVICES].sort());
    figures.push(`compose: edge trace in Jaeger ${Date.now() - sent} ms after the request`);
    t.diagnostic(figures.at(-1)!);
    // The cloud services' OTLP log lines of that trace, by its id (the edge's own go to its collector).
    const lines = await poll(`log lines of trace ${trace.traceID} in VictoriaLogs`, async () => {
      const found = await queryLogs(url('VICTORIALOGS_PORT'), `trace_id:${trace.traceID}`);
      return found.some((l) => l['service.name'] === 'inference-ensemble') ? found : undefined;
    }, 60_000);
    const spanIds = new Set(trace.spans.map((s) => s.spanID));
    for (const l of lines) assert.ok(spanIds.has(l.span_id), `"${l._msg}" names a span of the trace`);
    figures.push(`compose: ${lines.length} log lines of the edge trace in VictoriaLogs`);
    t.diagnostic(figures.at(-1)!);
  });

  test('Prometheus scrapes every target up, with the repo\'s rules loaded and Alertmanager attached', async () => {
    const scrapeConfig = parse(readFileSync(path.join(REPO_ROOT, 'deploy/compose/prometheus.yml'), 'utf8')) as { scrape_configs: { job_name: string }[] };
    const jobs = scrapeConfig.scrape_configs.map((c) => c.job_name).sort();
    await poll('every Prometheus target up', async () => {
      const r = await request(`${url('PROMETHEUS_PORT')}/api/v1/targets?state=active`);
      const targets = (r.json as { data: { activeTargets: { labels: { job: string }; health: string; lastError: string }[] } }).data.activeTargets;
      const down = targets.filter((x) => x.health !== 'up').map((x) => `${x.labels.job} ${x.health} ${x.lastError}`);
      const seen = [...new Set(targets.map((x) => x.labels.job))].sort();
      if (down.length === 0 && seen.join() === jobs.join()) return true;
      throw new Error(`down: ${down.join('; ') || 'none'}; jobs ${seen.join(',')}`);
    }, 90_000);

    const rulesDir = path.join(REPO_ROOT, 'observability/prometheus/rules');
    const expected = readdirSync(rulesDir)
      .filter((f) => f.endsWith('.yml'))
      .flatMap((f) => (parse(readFileSync(path.join(rulesDir, f), 'utf8')) as { groups: { rules: unknown[] }[] }).groups)
      .reduce((n, g) => n + g.rules.length, 0);
    const rules = (await request(`${url('PROMETHEUS_PORT')}/api/v1/rules`)).json as { data: { groups: { rules: { health: string; name: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    assert.equal(loaded.length, expected, 'every rule of observability/prometheus/rules is loaded');
    assert.deepEqual(loaded.filter((r) => r.health === 'err').map((r) => r.name), [], 'no rule fails to evaluate');

    // The collector's own metrics under the classic names the rules use (Prometheus 3 would
    // otherwise scrape them as `http.server.request.duration` with dotted labels).
    const classic = await poll('the collector\'s HTTP server metric under its classic name', async () => {
      const q = encodeURIComponent('sum(http_server_request_duration_count{job="otel-collector",http_response_status_code="200"})');
      const r = (await request(`${url('PROMETHEUS_PORT')}/api/v1/query?query=${q}`)).json as { data: { result: { value: [number, string] }[] } };
      return r.data.result.length ? Number(r.data.result[0].value[1]) : undefined;
    }, 30_000);
    assert.ok(classic > 0, 'OTLP/HTTP requests to the collector are counted');

    const am = (await request(`${url('PROMETHEUS_PORT')}/api/v1/alertmanagers`)).json as { data: { activeAlertmanagers: { url: string }[] } };
    assert.equal(am.data.activeAlertmanagers.length, 1, 'Prometheus sends alerts to the compose Alertmanager');
    assert.equal((await request(`${url('ALERTMANAGER_PORT')}/api/v2/status`)).status, 200);
  });

  test('docker compose down -v leaves no container, network or volume behind', async () => {
    await composeOk(CLOUD_PROJECT, CLOUD_FILES, env, ['down', '--volumes', '--remove-orphans', '--timeout', '10'], 180_000);
    projects.delete(CLOUD_PROJECT);
    await assertNothingLeft(CLOUD_PROJECT);
  });
});

async function assertNothingLeft(project: string): Promise<void> {
  const label = `label=com.docker.compose.project=${project}`;
  assert.equal(await engine.ok(['ps', '--all', '--quiet', '--filter', label]), '', `${project}: containers left`);
  assert.equal(await engine.ok(['network', 'ls', '--quiet', '--filter', label]), '', `${project}: networks left`);
  assert.equal(await engine.ok(['volume', 'ls', '--quiet', '--filter', label]), '', `${project}: volumes left`);
}

// ------------------------------------------------------------------- the edge device, for real

describe('deploy/compose/edge.yml: the edge device against the local run\'s ingress', { skip: SKIP_CONTAINERS ? SKIP_REASON : false, timeout: 600_000 }, () => {
  let stack: LocalStack;
  let edgePort: string;
  let image: Buffer;

  before(async () => {
    stack = await LocalStack.start();
    edgePort = String(await freePort());
    image = await sharp({ create: { width: 200, height: 160, channels: 3, background: { r: 10, g: 200, b: 90 } } }).png().toBuffer();
  });
  after(async () => {
    await stack?.stop();
  });

  /** edge.yml + edge.host.yml: the device in the host's network, through the local nginx ingress. */
  const edgeEnv = (token: string) => ({
    EDGE_IMAGE: `meridian/preprocessing-edge:${TAG}`,
    EDGE_PORT: edgePort,
    INFERENCE_URL: stack.url('inference-ensemble'),
    EDGE_INGRESS_URL: stack.url('edge-ingress'),
    EDGE_INGRESS_CA: stack.summary.edgeIngressCert,
    EDGE_OTLP_TOKEN: token,
    EDGE_SITE_ID: 'edge-device-test',
    // The file's only service is in profile edge: up, and down in after() too, must name it.
    COMPOSE_PROFILES: 'edge',
  });
  const up = async (token: string) => {
    projects.set(EDGE_PROJECT, { files: EDGE_FILES, env: edgeEnv(token) });
    await composeOk(EDGE_PROJECT, EDGE_FILES, edgeEnv(token), ['up', '--detach', '--wait', '--wait-timeout', '120', '--no-build', '--pull', 'never', '--force-recreate'], 180_000);
  };
  /** One POST /preprocessing to the device; the trace in the local Jaeger once it has `wanted`. */
  async function deviceTrace(wanted: string[]): Promise<JaegerTrace> {
    const res = await request(`http://127.0.0.1:${edgePort}/preprocessing`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image }, 60_000);
    assert.equal(res.status, 200, res.text);
    const traceId = (res.json as { traceId: string }).traceId;
    return poll(`trace ${traceId} with ${wanted.join(', ')} in the local Jaeger`, async () => {
      const r = await request(`${stack.url('jaeger')}/api/traces/${traceId}`);
      const trace = r.status === 200 ? (r.json as { data: JaegerTrace[] }).data[0] : undefined;
      const have = new Set(Object.values(trace?.processes ?? {}).map((p) => p.serviceName));
      return trace && wanted.every((x) => have.has(x)) ? trace : undefined;
    }, 60_000);
  }
  const edgeAccepted = async () => {
    const own = parsePrometheus((await request(`${stack.url('collector-metrics')}/metrics`)).text);
    return own.filter((x) => x.name.startsWith('otelcol_receiver_accepted_spans') && x.labels.receiver === 'otlp/edge').reduce((n, x) => n + x.value, 0);
  };
  const ingressLog = () => readFileSync(path.join(stack.summary.runDir, 'edge-ingress-access.log'), 'utf8');

  test('with the token, its spans go through the TLS ingress and join the cloud trace', async () => {
    await up(stack.summary.edgeOtlpToken);
    const trace = await deviceTrace(EDGE_TRACE_SERVICES);
    const ensemble = trace.spans.find((x) => trace.processes[x.processID].serviceName === 'inference-ensemble');
    assert.equal(ensemble?.tags.find((x) => x.key === 'meridian.site')?.value, 'edge-device-test', 'the site id travelled as baggage');
    assert.match(ingressLog(), /"POST \/v1\/traces HTTP\/1\.1" 200/, 'the ingress passed the device\'s OTLP');
    assert.ok((await edgeAccepted()) > 0, 'the collector accepted spans on otlp/edge');
  });

  test('with a wrong token, the ingress answers 401 and the collector stores nothing from it', async (t) => {
    await up('not-the-token');
    const refusedBefore = (ingressLog().match(/"POST \/v1\/traces HTTP\/1\.1" 401/g) ?? []).length;
    const acceptedBefore = await edgeAccepted();
    // The cloud spans of the device's request arrive (the ensemble exports them itself)...
    const trace = await deviceTrace(['inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2']);
    // ...and the device's own export is refused at the ingress, once its batch is sent.
    const refused = await poll('a 401 in the ingress log', async () => {
      const n = (ingressLog().match(/"POST \/v1\/traces HTTP\/1\.1" 401/g) ?? []).length;
      return n > refusedBefore ? n - refusedBefore : undefined;
    }, 60_000);
    const again = (await request(`${stack.url('jaeger')}/api/traces/${trace.traceID}`)).json as { data: JaegerTrace[] };
    assert.ok(!servicesOf(again.data[0]).has('preprocessing-edge'), 'no span of the wrong-token device was stored');
    assert.equal(await edgeAccepted(), acceptedBefore, 'the collector accepted nothing more on otlp/edge');
    t.diagnostic(`ingress refused ${refused} OTLP posts with 401`);
    await composeOk(EDGE_PROJECT, EDGE_FILES, edgeEnv('not-the-token'), ['down', '--volumes', '--timeout', '10']);
    projects.delete(EDGE_PROJECT);
    await assertNothingLeft(EDGE_PROJECT);
  });
});
