// docker-compose.yml (the cloud suite and its pipeline) and deploy/compose/edge.yml (the edge
// device), without a Docker engine: both files, interpolated as compose would, must be valid for
// the Compose Specification schema (the real `docker compose config`) and keep the telemetry
// contract: service names, ports, OTLP endpoints, every URL pointing at a service and a port that
// exists, the repo's own pipeline configs mounted, health-gated start order, no secrets in the
// file. The real collector, Jaeger and promtool then check the configs with compose's values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { parse } from 'yaml';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'docker-compose.yml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`docker-compose.yml not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const COMPOSE = join(repoRoot, 'docker-compose.yml');
const EDGE = join(repoRoot, 'deploy', 'compose', 'edge.yml');
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');

/** A real tool from scripts/tools/install.sh's bin dir; missing means the test fails, never skips. */
function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it builds the pinned tools into ${binDir})`);
  }
  return path;
}

/** KEY=VALUE lines of scripts/tools/versions.env. */
const versions: Record<string, string> = Object.fromEntries(
  readFileSync(join(repoRoot, 'scripts/tools/versions.env'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** promtool of the Prometheus version docker-compose.yml runs (scripts/tools/install.sh prometheus-k8s). */
function composePromtool(): string {
  const path = join(binDir, 'promtool');
  if (!existsSync(path)) assert.fail(`${path} not found: run scripts/tools/install.sh prometheus-k8s`);
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout;
  assert.ok(version.includes(`version ${versions.PROMETHEUS_IMAGE_VERSION.replace(/^v/, '')} `), `${path} is not Prometheus ${versions.PROMETHEUS_IMAGE_VERSION}: ${version}`);
  return path;
}

/** The telemetry contract (docs/design.md): service.name -> port, and the image each runs. */
// The Node services share services/Dockerfile, named by its SERVICE and PORT build args.
const NODE_SERVICE = 'services/Dockerfile';
const CONTRACT: Record<string, { port: number; image: string; dockerfile: string }> = {
  'service-a': { port: 8080, image: 'meridian/service-a', dockerfile: NODE_SERVICE },
  'service-b': { port: 8081, image: 'meridian/service-b', dockerfile: NODE_SERVICE },
  'preprocessing-edge': { port: 5010, image: 'meridian/preprocessing-edge', dockerfile: NODE_SERVICE },
  'inference-ensemble': { port: 8000, image: 'meridian/inference', dockerfile: 'services/inference/Dockerfile' },
  'inference-efficientnetb0': { port: 8001, image: 'meridian/inference', dockerfile: 'services/inference/Dockerfile' },
  'inference-mobilenetv2': { port: 8002, image: 'meridian/inference', dockerfile: 'services/inference/Dockerfile' },
};

// --------------------------------------------------------------------------- compose interpolation

class MissingVariable extends Error {}

/**
 * Compose's interpolation of one string: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?message}, ${VAR?message} (defaults may hold further ${...}).
 */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$') {
      out += text[i];
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}') depth--;
      }
      assert.ok(depth === 0, `unclosed \${ in ${text}`);
      const inner = text.slice(i + 2, j - 1);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(inner);
      assert.ok(m, `invalid interpolation \${${inner}}`);
      const [, name, op, arg = ''] = m;
      const value = env[name];
      const set = op?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      if (!op) out += value ?? '';
      else if (op.endsWith('-')) out += set ? value : interpolate(arg, env);
      else if (op.endsWith('+')) out += set ? interpolate(arg, env) : '';
      else if (!set) throw new MissingVariable(`required variable ${name} is missing a value: ${arg}`);
      else out += value;
      i = j - 1;
    } else if (next !== undefined && /[A-Za-z_]/.test(next)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))!;
      out += env[m[0]] ?? '';
      i += m[0].length;
    } else {
      assert.fail(`a lone $ in "${text}" (compose needs $$ for a literal $)`);
    }
  }
  return out;
}

function deepInterpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => deepInterpolate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepInterpolate(v, env)]));
  }
  return value;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  tmpfs?: string[];
  secrets?: string[];
  profiles?: string[];
  healthcheck?: { test: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
}

/** A compose file as compose sees it: YAML with merge keys, then interpolated with `env`. */
function load(file: string, env: Record<string, string | undefined>, text = readFileSync(file, 'utf8')): ComposeFile {
  const raw = parse(text, { merge: true }) as unknown;
  return deepInterpolate(raw, env) as ComposeFile;
}

const ENV = { EDGE_OTLP_TOKEN: 'test-token-not-a-secret' };
const EDGE_ENV = { INFERENCE_URL: 'https://meridian.example.com', EDGE_INGRESS_URL: 'https://otlp.meridian.example.com', EDGE_OTLP_TOKEN: 'edge-test-token' };

/**
 * The real Docker Compose (v2, scripts/tools/install.sh compose) reads the files: `config --quiet`
 * validates them against the Compose Specification schema compose itself embeds and resolves
 * them, with no engine needed. A document instead of files is written to a temporary file, read
 * with the repository as its project directory.
 */
function composeConfig(what: string, filesOrDoc: string[] | object, vars: Record<string, string | undefined>): { ok: boolean; output: string } {
  let tmp: string | undefined;
  let files: string[];
  if (Array.isArray(filesOrDoc)) files = filesOrDoc;
  else {
    tmp = mkdtempSync(join(tmpdir(), 'meridian-compose-'));
    writeFileSync(join(tmp, 'compose.json'), JSON.stringify(filesOrDoc));
    files = [join(tmp, 'compose.json')];
  }
  try {
    const r = spawnSync(tool('docker-compose'), ['--project-directory', repoRoot, ...files.flatMap((f) => ['-f', f]), 'config', '--quiet'], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { ok: r.status === 0, output: `${what}: ${r.stdout}${r.stderr}${r.error ?? ''}` };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** `[host_ip:]published:target[/proto]` or `target` -> the container port. */
function containerPort(spec: string): number {
  const parts = spec.split('/')[0].split(':');
  return Number(parts.at(-1));
}

/** Ports a service listens on for its peers: container side of `ports`, and `expose`. */
function listening(svc: Service): Set<number> {
  return new Set([...(svc.ports ?? []).map(containerPort), ...(svc.expose ?? []).map(Number)]);
}

function bindMounts(svc: Service): { source: string; target: string }[] {
  return (svc.volumes ?? [])
    .map((v) => v.split(':'))
    .filter(([source]) => source.startsWith('.') || source.startsWith('/'))
    .map(([source, target]) => ({ source, target }));
}

/** host:port of a URL or endpoint value (`http://x:1`, `x:1`); undefined for listen addresses. */
function peer(value: string): { host: string; port: number } | undefined {
  const m = /^(?:[a-z]+:\/\/)?([A-Za-z0-9.-]+):(\d+)(?:\/.*)?$/.exec(value);
  if (!m || m[1] === '0.0.0.0') return undefined;
  return { host: m[1], port: Number(m[2]) };
}

const cloud = load(COMPOSE, ENV);
const edge = load(EDGE, EDGE_ENV);

// ------------------------------------------------------------------------------------------ tests

test('docker-compose.yml and deploy/compose/edge.yml are valid for the Compose Specification (the real docker compose config)', () => {
  for (const [what, files, vars] of [
    ['docker-compose.yml', [COMPOSE], ENV],
    ['deploy/compose/edge.yml', [EDGE], EDGE_ENV],
    ['edge.yml + edge.host.yml', [EDGE, join(repoRoot, 'deploy/compose/edge.host.yml')], { ...EDGE_ENV, EDGE_INGRESS_CA: join(repoRoot, 'README.md') }],
  ] as const) {
    const r = composeConfig(what, [...files], vars);
    assert.ok(r.ok, r.output);
  }
  // It really rejects: an unknown service key and a wrong type.
  const broken = structuredClone(cloud) as unknown as { services: Record<string, Record<string, unknown>> };
  broken.services['service-a'].helthcheck = { test: ['CMD', 'true'] };
  const r1 = composeConfig('an unknown service key', broken, ENV);
  assert.equal(r1.ok, false, 'compose accepted an unknown service key');
  assert.match(r1.output, /helthcheck/);
  const broken2 = structuredClone(cloud) as unknown as { services: Record<string, Record<string, unknown>> };
  broken2.services['service-a'].ports = 8080;
  assert.equal(composeConfig('ports not a list', broken2, ENV).ok, false, 'compose accepted ports that are not a list');
});

test('secrets come from the environment: the collector and the edge require theirs, nothing is hard-coded', () => {
  assert.throws(() => load(COMPOSE, {}), MissingVariable, 'docker-compose.yml must refuse to start without EDGE_OTLP_TOKEN');
  for (const name of Object.keys(EDGE_ENV)) {
    assert.throws(() => load(EDGE, { ...EDGE_ENV, [name]: undefined }), MissingVariable, `edge.yml must require ${name}`);
    assert.throws(() => load(EDGE, { ...EDGE_ENV, [name]: '' }), MissingVariable, `edge.yml must refuse an empty ${name}`);
  }
  const raw = parse(readFileSync(COMPOSE, 'utf8'), { merge: true }) as ComposeFile;
  assert.match(raw.services.collector.environment!.EDGE_OTLP_TOKEN, /^\$\{EDGE_OTLP_TOKEN:\?.+\}$/, 'EDGE_OTLP_TOKEN: ${EDGE_OTLP_TOKEN:?message}');
  const rawEdge = parse(readFileSync(EDGE, 'utf8')) as ComposeFile;
  const e = rawEdge.services['preprocessing-edge-remote'].environment!;
  assert.match(e.INFERENCE_URL, /^\$\{INFERENCE_URL:\?.+\}$/);
  assert.match(e.OTEL_EXPORTER_OTLP_ENDPOINT, /^\$\{EDGE_INGRESS_URL:\?.+\}$/);
  assert.match(e.OTEL_EXPORTER_OTLP_HEADERS, /^Authorization=Bearer%20\$\{EDGE_OTLP_TOKEN:\?.+\}$/);
  // The Alertmanager SMTP password is a compose secret whose file path comes from the environment.
  const secret = (raw.secrets ?? {}).alertmanager_smtp_password;
  assert.match(secret?.file ?? '', /^\$\{ALERTMANAGER_SMTP_PASSWORD_FILE:-[^}]+\}$/, 'secret file from ALERTMANAGER_SMTP_PASSWORD_FILE');
  assert.ok(raw.services.alertmanager.secrets?.includes('alertmanager_smtp_password'));
  const placeholder = join(repoRoot, cloud.secrets!.alertmanager_smtp_password.file!);
  assert.equal(statSync(placeholder).size, 0, 'the default secret file is an empty placeholder, never a password');
  // No literal credential anywhere: variables named like secrets only ever hold an interpolation.
  for (const [file, doc] of [['docker-compose.yml', raw], ['edge.yml', rawEdge]] as const) {
    for (const [name, svc] of Object.entries(doc.services)) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (/TOKEN|PASSWORD|SECRET|HEADERS|API_KEY/.test(key)) {
          assert.match(String(value), /\$\{[A-Z_]+:\?/, `${file}: ${name}.${key} holds a literal value`);
        }
      }
    }
  }
});

test('the six services keep the telemetry contract: names, ports, images, OTLP to the collector', () => {
  for (const [name, { port, image, dockerfile }] of Object.entries(CONTRACT)) {
    const svc = cloud.services[name];
    assert.ok(svc, `docker-compose.yml has no service ${name}`);
    const env = svc.environment ?? {};
    assert.equal(env.OTEL_SERVICE_NAME, name, `${name}: OTEL_SERVICE_NAME is the service.name of the contract`);
    assert.equal(env.PORT, String(port), `${name}: PORT`);
    assert.equal(env.HOST, '0.0.0.0', `${name}: HOST=0.0.0.0 (the services bind 127.0.0.1 by default)`);
    assert.ok(listening(svc).has(port), `${name}: port ${port} is neither published nor exposed`);
    assert.equal(svc.image?.split(':')[0], image, `${name}: image`);
    assert.ok(svc.build, `${name}: built from the repo`);
    assert.equal(posix.normalize(svc.build.context), '.', `${name}: the build context is the repository root (the npm workspace)`);
    assert.equal(svc.build.dockerfile, dockerfile, `${name}: dockerfile`);
    if (dockerfile === NODE_SERVICE) assert.deepEqual(svc.build.args, { SERVICE: name, PORT: String(port) }, `${name}: build args`);
    assert.ok(existsSync(join(repoRoot, svc.build.context, dockerfile)), `${name}: ${dockerfile} does not exist`);
    if (name.startsWith('inference-')) assert.equal(env.ROLE, name.slice('inference-'.length), `${name}: ROLE`);

    // OTLP/HTTP to the collector's 4318, or gRPC to its 4317.
    const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
    const endpoint = peer(env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
    assert.equal(endpoint?.host, 'collector', `${name}: OTEL_EXPORTER_OTLP_ENDPOINT goes to the collector`);
    assert.equal(endpoint?.port, protocol === 'grpc' ? 4317 : 4318, `${name}: OTLP ${protocol} port`);
    assert.equal(env.OTEL_TRACES_EXPORTER, 'otlp', `${name}: traces exported`);
    assert.equal(svc.profiles, undefined, `${name}: no profile, so a plain \`docker compose up\` starts it`);
    // The image's own HEALTHCHECK command: service-kit's healthcheck.js asks /healthy on PORT.
    assert.deepEqual(svc.healthcheck?.test, ['CMD', 'node', '/app/packages/service-kit/dist/src/healthcheck.js'], `${name}: healthcheck`);
  }
  assert.match(readFileSync(join(repoRoot, 'packages/service-kit/src/healthcheck.ts'), 'utf8'), /\/healthy/, 'healthcheck.ts asks /healthy');
});

test('the pipeline images are the pinned ones the stand-ins replace (scripts/tools/versions.env)', () => {
  const pinned: Record<string, string> = {
    collector: 'OTELCOL_IMAGE',
    jaeger: 'JAEGER_IMAGE',
    prometheus: 'PROMETHEUS_IMAGE',
    alertmanager: 'ALERTMANAGER_IMAGE',
    victorialogs: 'VICTORIALOGS_IMAGE',
  };
  for (const [svc, key] of Object.entries(pinned)) {
    assert.ok(versions[key], `versions.env has no ${key}`);
    assert.equal(cloud.services[svc]?.image, versions[key], `docker-compose.yml ${svc}.image`);
  }
  assert.equal(versions.PROMETHEUS_IMAGE, `prom/prometheus:${versions.PROMETHEUS_IMAGE_VERSION}`);
  assert.equal(versions.ALERTMANAGER_IMAGE, `prom/alertmanager:${versions.ALERTMANAGER_IMAGE_VERSION}`);
  assert.equal(versions.JAEGER_IMAGE, `jaegertracing/jaeger:${versions.JAEGER_VERSION.replace(/^v/, '')}`);
  assert.equal(versions.OTELCOL_IMAGE, `otel/opentelemetry-collector-contrib:${versions.OTELCOL_VERSION.replace(/^v/, '')}`);
  assert.equal(versions.VICTORIALOGS_IMAGE, `victoriametrics/victoria-logs:${versions.VICTORIALOGS_VERSION}`);
});

test('every URL and endpoint names a compose service and a port it listens on', () => {
  const services = cloud.services;
  let checked = 0;
  for (const [name, svc] of Object.entries(services)) {
    for (const [key, value] of Object.entries(svc.environment ?? {})) {
      if (!/_(URL|ENDPOINT)$/.test(key)) continue;
      const p = peer(String(value));
      if (!p) continue; // a listen address (0.0.0.0:port)
      const target = services[p.host];
      assert.ok(target, `${name}.${key}=${value}: no compose service ${p.host}`);
      assert.ok(listening(target).has(p.port), `${name}.${key}=${value}: ${p.host} does not listen on ${p.port}`);
      checked++;
    }
  }
  // SERVICE_B_URL, EFFICIENTNETB0_URL, MOBILENETV2_URL, INFERENCE_URL, JAEGER_OTLP_ENDPOINT, 6x OTLP.
  assert.ok(checked >= 11, `only ${checked} URLs checked`);
  const env = (s: string) => services[s].environment ?? {};
  assert.equal(env('service-a').SERVICE_B_URL, 'http://service-b:8081');
  assert.equal(env('inference-ensemble').EFFICIENTNETB0_URL, 'http://inference-efficientnetb0:8001');
  assert.equal(env('inference-ensemble').MOBILENETV2_URL, 'http://inference-mobilenetv2:8002');
  assert.equal(env('preprocessing-edge').INFERENCE_URL, 'http://inference-ensemble:8000');

  // The pipeline listens where its own environment says (the configs' *_ENDPOINT / *_PORT variables).
  const c = env('collector');
  for (const key of ['COLLECTOR_OTLP_GRPC_ENDPOINT', 'COLLECTOR_OTLP_HTTP_ENDPOINT', 'PROM_EXPORTER_ENDPOINT', 'COLLECTOR_HEALTH_ENDPOINT']) {
    assert.match(c[key] ?? '', /^0\.0\.0\.0:\d+$/, `collector ${key} binds 0.0.0.0`);
    assert.ok(listening(services.collector).has(Number(c[key].split(':')[1])), `collector ${key}: port not exposed`);
  }
  assert.equal(c.EDGE_OTLP_HOST, '0.0.0.0');
  assert.equal(c.COLLECTOR_TELEMETRY_HOST, '0.0.0.0');
  for (const key of ['EDGE_OTLP_PORT', 'COLLECTOR_TELEMETRY_PORT']) assert.ok(listening(services.collector).has(Number(c[key])), `collector ${key}`);
  assert.deepEqual([...listening(services.collector)].filter((p) => p === 4317 || p === 4318), [4317, 4318]);
  const j = env('jaeger');
  assert.equal(j.JAEGER_HOST, '0.0.0.0');
  for (const key of ['JAEGER_OTLP_GRPC_PORT', 'JAEGER_OTLP_HTTP_PORT', 'JAEGER_QUERY_HTTP_PORT', 'JAEGER_HEALTH_PORT', 'JAEGER_METRICS_PORT']) {
    assert.ok(listening(services.jaeger).has(Number(j[key])), `jaeger ${key}=${j[key]} is not exposed`);
  }
  assert.ok(listening(services.jaeger).has(16686), 'Jaeger UI on 16686');
  assert.ok(listening(services.prometheus).has(9090), 'Prometheus on 9090');
  assert.ok(listening(services.alertmanager).has(9093), 'Alertmanager on 9093');
  assert.ok(listening(services.victorialogs).has(9428), 'VictoriaLogs on 9428');
  assert.equal(c.LOGS_STORE_OTLP_ENDPOINT, 'http://victorialogs:9428/insert/opentelemetry', 'the collector sends logs to the compose VictoriaLogs');
  assert.ok(listening(services.grafana).has(3000), 'Grafana on 3000');
});

test('the pipeline runs the repo configs, mounted read-only, with images pinned to the repo versions', () => {
  const s = cloud.services;
  assert.equal(s.collector.image, `otel/opentelemetry-collector-contrib:${versions.OTELCOL_VERSION.replace(/^v/, '')}`);
  assert.equal(s.jaeger.image, `jaegertracing/jaeger:${versions.JAEGER_VERSION.replace(/^v/, '')}`);
  for (const [name, svc] of Object.entries(s)) {
    const tag = svc.image?.split(':')[1];
    assert.ok(tag && tag !== 'latest', `${name}: image ${svc.image} is not pinned by tag`);
  }

  const mounted = (svc: string, source: string): string => {
    const m = bindMounts(s[svc]).find((b) => posix.normalize(b.source) === posix.normalize(source));
    assert.ok(m, `${svc} does not mount ${source}`);
    assert.ok((s[svc].volumes ?? []).some((v) => v.startsWith(m.source) && v.endsWith(':ro')), `${svc}: ${source} is mounted read-only`);
    return m.target;
  };
  const collectorConfig = mounted('collector', './observability/collector/config.yaml');
  assert.ok(s.collector.command?.join(' ').includes(collectorConfig), 'the collector runs the mounted config');
  const jaegerConfig = mounted('jaeger', './observability/jaeger/config.yaml');
  assert.ok(s.jaeger.command?.join(' ').includes(jaegerConfig), 'Jaeger runs the mounted config');
  const promConfig = mounted('prometheus', './deploy/compose/prometheus.yml');
  assert.ok(s.prometheus.command?.some((a) => a === `--config.file=${promConfig}`), 'Prometheus runs the mounted config');
  const rulesDir = mounted('prometheus', './observability/prometheus/rules');
  const amConfig = mounted('alertmanager', './observability/alertmanager/alertmanager.yml');
  assert.ok(s.alertmanager.command?.some((a) => a === `--config.file=${amConfig}`));
  const dashboards = mounted('grafana', './observability/grafana/dashboards');
  const provisioning = mounted('grafana', './deploy/compose/grafana/provisioning');
  assert.equal(provisioning, '/etc/grafana/provisioning');

  // Every bind mount of both files exists in the repo (relative to each file's folder).
  for (const [file, doc] of [[COMPOSE, cloud], [EDGE, edge]] as const) {
    for (const [name, svc] of Object.entries(doc.services)) {
      for (const b of bindMounts(svc)) assert.ok(existsSync(join(dirname(file), b.source)), `${name}: mounted ${b.source} does not exist`);
      if (svc.build) assert.ok(existsSync(join(dirname(file), svc.build.context, svc.build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile missing`);
    }
  }

  // The Prometheus config loads the mounted rules, and alerts go to the compose Alertmanager.
  const prom = parse(readFileSync(join(repoRoot, 'deploy/compose/prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  assert.deepEqual(prom.rule_files, [`${rulesDir}/*.yml`]);
  const jobs = new Map(prom.scrape_configs.map((j) => [j.job_name, j.static_configs.flatMap((c) => c.targets)]));
  for (const [name, { port }] of Object.entries(CONTRACT)) {
    assert.deepEqual(jobs.get(name), [`${name}:${port}`], `Prometheus job ${name} (job = service name, as the rules and dashboards expect)`);
  }
  assert.ok(jobs.has('otel-collector'), 'the collector own metrics job (otelcol_*)');
  const targets = [...jobs.values()].flat().concat(prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets)));
  for (const t of targets) {
    const p = peer(t)!;
    if (p.host === 'localhost') continue;
    assert.ok(s[p.host] && listening(s[p.host]).has(p.port), `Prometheus target ${t}: no compose service listening there`);
  }

  // Grafana: Prometheus and Jaeger datasources at compose addresses, dashboards from the mounted folder.
  const ds = parse(readFileSync(join(repoRoot, 'deploy/compose/grafana/provisioning/datasources/datasources.yml'), 'utf8')) as {
    datasources: { type: string; url: string; isDefault?: boolean }[];
  };
  for (const type of ['prometheus', 'jaeger']) {
    const d = ds.datasources.find((x) => x.type === type);
    assert.ok(d, `no ${type} datasource`);
    const p = peer(d.url)!;
    assert.ok(s[p.host] && listening(s[p.host]).has(p.port), `${type} datasource ${d.url}: no compose service there`);
  }
  const dp = parse(readFileSync(join(repoRoot, 'deploy/compose/grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as {
    providers: { options: { path: string } }[];
  };
  assert.deepEqual(dp.providers.map((p) => p.options.path), [dashboards]);
  const home = s.grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
  if (home) {
    assert.ok(home.startsWith(`${dashboards}/`), 'the home dashboard is one of the mounted ones');
    assert.ok(existsSync(join(repoRoot, 'observability/grafana/dashboards', posix.basename(home))), `${home} is not in observability/grafana/dashboards`);
  }
});

test('the collector and Jaeger get every variable their config needs, and no unknown one', () => {
  for (const [svc, config] of [
    ['collector', 'observability/collector/config.yaml'],
    ['jaeger', 'observability/jaeger/config.yaml'],
  ] as const) {
    const text = readFileSync(join(repoRoot, config), 'utf8');
    const used = new Map([...text.matchAll(/\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}/g)].map((m) => [m[1], m[2] !== undefined]));
    const given = Object.keys(cloud.services[svc].environment ?? {});
    for (const key of given) assert.ok(used.has(key), `${svc}: ${key} is set but ${config} never reads it`);
    for (const [key, hasDefault] of used) if (!hasDefault) assert.ok(given.includes(key), `${svc}: ${config} requires ${key}`);
  }
});

test('start order waits on health: callers start after their peers answer /healthy', () => {
  const s = cloud.services;
  for (const [name, svc] of Object.entries(s)) {
    for (const [dep, { condition }] of Object.entries(svc.depends_on ?? {})) {
      assert.ok(s[dep], `${name} depends on ${dep}, which does not exist`);
      if (condition === 'service_healthy') assert.ok(s[dep].healthcheck && !s[dep].healthcheck.disable, `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
    }
    // Whoever a service calls (a URL env var naming another service) must be healthy first.
    for (const [key, value] of Object.entries(svc.environment ?? {})) {
      if (!key.endsWith('_URL')) continue;
      const p = peer(value);
      if (p && s[p.host]) assert.equal(svc.depends_on?.[p.host]?.condition, 'service_healthy', `${name} calls ${p.host} (${key}) without waiting for it to be healthy`);
    }
  }
  for (const name of Object.keys(CONTRACT)) assert.ok(s[name].depends_on?.collector, `${name} starts after the collector`);
  assert.equal(s.grafana.depends_on?.prometheus?.condition, 'service_healthy');
});

test('the edge file runs preprocessing-edge alone, against a remote ingress, with profile edge', () => {
  const names = Object.keys(edge.services);
  assert.deepEqual(names, ['preprocessing-edge-remote'], 'the edge file starts nothing but the edge');
  const svc = edge.services['preprocessing-edge-remote'];
  assert.deepEqual(svc.profiles, ['edge']);
  assert.equal(svc.depends_on, undefined, 'the edge depends on nothing local');
  const env = svc.environment ?? {};
  assert.equal(env.OTEL_SERVICE_NAME, 'preprocessing-edge', 'same service.name as in the cloud: the contract');
  assert.equal(env.PORT, '5010');
  assert.equal(env.HOST, '0.0.0.0');
  assert.ok(listening(svc).has(5010));
  assert.equal(env.INFERENCE_URL, EDGE_ENV.INFERENCE_URL);
  assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, EDGE_ENV.EDGE_INGRESS_URL);
  assert.equal(env.OTEL_EXPORTER_OTLP_HEADERS, `Authorization=Bearer%20${EDGE_ENV.EDGE_OTLP_TOKEN}`);
  assert.equal(env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf', 'the ingress carries OTLP/HTTP');
  assert.equal(svc.build?.dockerfile, NODE_SERVICE);
  assert.deepEqual(svc.build?.args, { SERVICE: 'preprocessing-edge', PORT: '5010' });
  assert.ok(existsSync(join(dirname(EDGE), svc.build!.context, 'package-lock.json')), 'the edge builds from the repository root');
  assert.match(svc.image ?? '', /(^|\/)meridian\/preprocessing-edge:/);
  // And the cloud file has no edge-profile service that would need the edge's variables.
  for (const [name, s] of Object.entries(cloud.services)) assert.equal(s.profiles, undefined, `${name} in docker-compose.yml has a profile`);
});

test('the real collector, Jaeger and promtool accept the configs with the compose values', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-compose-'));
  try {
    const run = (bin: string, args: string[], env: NodeJS.ProcessEnv) => {
      const r = spawnSync(bin, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, encoding: 'utf8', timeout: 60_000 });
      if (r.error) throw r.error;
      return { status: r.status, output: `${r.stdout}${r.stderr}` };
    };
    const collectorEnv = cloud.services.collector.environment!;
    const c = run(tool('otelcol'), ['validate', `--config=${join(repoRoot, 'observability/collector/config.yaml')}`], collectorEnv);
    assert.equal(c.status, 0, `otelcol validate with the compose environment failed:\n${c.output}`);
    // It must be able to fail: the same check without the token.
    const { EDGE_OTLP_TOKEN: _token, ...noToken } = collectorEnv;
    assert.notEqual(run(tool('otelcol'), ['validate', `--config=${join(repoRoot, 'observability/collector/config.yaml')}`], noToken).status, 0);

    const j = run(tool('jaeger'), ['validate', '--config', join(repoRoot, 'observability/jaeger/config.yaml')], cloud.services.jaeger.environment!);
    assert.equal(j.status, 0, `jaeger validate with the compose environment failed:\n${j.output}`);

    // promtool on the compose Prometheus config, its rule_files pointed at the repo's rules (the
    // folder compose mounts), so the rules load through this config.
    const promText = readFileSync(join(repoRoot, 'deploy/compose/prometheus.yml'), 'utf8').replace(
      '/etc/prometheus/rules/*.yml',
      join(repoRoot, 'observability/prometheus/rules/*.yml'),
    );
    const promFile = join(dir, 'prometheus.yml');
    writeFileSync(promFile, promText);
    // The promtool of the Prometheus compose runs (v3.5, the one the local run uses too).
    const p = run(composePromtool(), ['check', 'config', promFile], {});
    assert.equal(p.status, 0, `promtool check config failed:\n${p.output}`);
    assert.match(p.output, /SUCCESS: \d+ rules found/, `no rules loaded through the compose config:\n${p.output}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
