// The Helm side, checked with the real pinned helm (scripts/tools/install.sh builds it): the app
// chart deploy/helm/meridian lints, renders for each values file, every rendered object is valid
// for the Kubernetes (and Prometheus Operator) API schemas, values.schema.json rejects bad values,
// and the rendered workloads keep the contract (probes, securityContext, resources, OTel env,
// images, fault flags, shutdown and resilience settings). The copies of observability/ config
// inside deploy/helm (rules, dashboards, fault flags, collector and Alertmanager config) must equal
// their sources, and the real otelcol, amtool and jaeger
// accept the configs the platform values carry. No cluster is involved: nothing is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'helm', 'meridian', 'Chart.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`deploy/helm/meridian/Chart.yaml not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const chartDir = join(repoRoot, 'deploy', 'helm', 'meridian');
const platformDir = join(repoRoot, 'deploy', 'helm', 'platform');
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');
const NAMESPACE = 'meridian';
const RELEASE = 'meridian';
const VALUES_FILES = ['values.yaml', 'values-eks.yaml', 'values-minimal.yaml'] as const;
type ValuesFile = (typeof VALUES_FILES)[number];

/** A real tool from scripts/tools/install.sh's bin dir; missing means the test fails, never skips. */
function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it builds the pinned tools into ${binDir})`);
  }
  return path;
}

// helm keeps its own cache/config/data dirs; a temp home keeps the user's untouched.
const helmHome = mkdtempSync(join(tmpdir(), 'meridian-helm-'));
process.on('exit', () => rmSync(helmHome, { recursive: true, force: true }));

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function exec(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeout = 60_000): Run {
  const r = spawnSync(bin, args, { env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function helm(args: string[]): Run {
  return exec(tool('helm'), args, {
    ...process.env,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  });
}

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

function templateArgs(values: ValuesFile, extra: string[] = []): string[] {
  return ['template', RELEASE, chartDir, '--namespace', NAMESPACE, '--values', join(chartDir, values), ...extra];
}

const renders = new Map<string, K8sObject[]>();
/** `helm template` for one values file (cached per arguments), parsed into objects. */
function render(values: ValuesFile, extra: string[] = []): K8sObject[] {
  const key = [values, ...extra].join(' ');
  const cached = renders.get(key);
  if (cached) return cached;
  const r = helm(templateArgs(values, extra));
  assert.equal(r.status, 0, `helm template with ${key} failed:\n${r.stderr}`);
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    assert.equal(doc.errors.length, 0, `rendered YAML does not parse: ${doc.errors.join('; ')}`);
    const obj = doc.toJS() as K8sObject | null;
    if (obj !== null) objects.push(obj);
  }
  renders.set(key, objects);
  return objects;
}

const ofKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);

function named(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name} rendered (have: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found;
}

// ------------------------------------------------------------------------------------------ schemas

type Validatable = new (data: unknown) => { validate(): void };
/** apiVersion/kind -> the model class that validates it; a kind missing here fails the test. */
const MODELS: Record<string, () => Promise<Validatable>> = {
  'v1/ConfigMap': async () => (await import('kubernetes-models/v1/ConfigMap')).ConfigMap as unknown as Validatable,
  'v1/Pod': async () => (await import('kubernetes-models/v1/Pod')).Pod as unknown as Validatable,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service as unknown as Validatable,
  'v1/ServiceAccount': async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount as unknown as Validatable,
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment as unknown as Validatable,
  'autoscaling/v2/HorizontalPodAutoscaler': async () =>
    (await import('kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler')).HorizontalPodAutoscaler as unknown as Validatable,
  'policy/v1/PodDisruptionBudget': async () =>
    (await import('kubernetes-models/policy/v1/PodDisruptionBudget')).PodDisruptionBudget as unknown as Validatable,
  'networking.k8s.io/v1/Ingress': async () => (await import('kubernetes-models/networking.k8s.io/v1/Ingress')).Ingress as unknown as Validatable,
  'networking.k8s.io/v1/NetworkPolicy': async () =>
    (await import('kubernetes-models/networking.k8s.io/v1/NetworkPolicy')).NetworkPolicy as unknown as Validatable,
  'monitoring.coreos.com/v1/ServiceMonitor': async () =>
    (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor')).ServiceMonitor as unknown as Validatable,
  'monitoring.coreos.com/v1/PrometheusRule': async () =>
    (await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule')).PrometheusRule as unknown as Validatable,
};

async function validateObject(obj: K8sObject): Promise<void> {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const load = MODELS[key];
  assert.ok(load, `${key} (${obj.metadata?.name}) has no schema in this test: unknown kinds are not accepted`);
  const Model = await load();
  try {
    new Model(obj).validate();
  } catch (err) {
    assert.fail(`${key} ${obj.metadata.name} is invalid: ${(err as Error).message}`);
  }
}

// --------------------------------------------------------------------------------------- workloads

const WORKLOADS = ['service-a', 'service-b', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];
const INFERENCE = WORKLOADS.filter((w) => w.startsWith('inference-'));

/** Kubernetes quantity -> bytes (memory) for the sizes used here. */
function bytes(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
  assert.ok(m, `unexpected memory quantity ${q}`);
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 };
  const unit = units[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: any }[];
  ports?: { name?: string; containerPort: number }[];
  startupProbe?: any;
  livenessProbe?: any;
  readinessProbe?: any;
  resources?: any;
  securityContext?: any;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; subPathExpr?: string; readOnly?: boolean }[];
}

/** Every container of every pod spec rendered (Deployments and the test Pod), with its pod spec. */
function containers(objects: K8sObject[]): { owner: string; c: Container; pod: any }[] {
  const out: { owner: string; c: Container; pod: any }[] = [];
  for (const o of objects) {
    const pod = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    if (!pod) continue;
    for (const c of [...(pod.initContainers ?? []), ...pod.containers] as Container[]) out.push({ owner: `${o.kind}/${o.metadata.name}`, c, pod });
  }
  return out;
}

function assertHardened(owner: string, c: Container, pod: any): void {
  const sc = c.securityContext ?? {};
  const where = `${owner} container ${c.name}`;
  const nonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
  assert.equal(nonRoot, true, `${where}: runAsNonRoot`);
  assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
  assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
  assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: capabilities.drop`);
  assert.equal(sc.capabilities?.add, undefined, `${where}: adds capabilities`);
  const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
  assert.equal(seccomp, 'RuntimeDefault', `${where}: seccompProfile`);
  assert.ok(c.resources?.requests?.cpu, `${where}: no cpu request`);
  assert.ok(c.resources?.requests?.memory, `${where}: no memory request`);
  assert.ok(c.resources?.limits?.memory, `${where}: no memory limit`);
  assert.ok(c.resources?.limits?.cpu, `${where}: no cpu limit`);
  const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
  assert.ok(uid >= 10000, `${where}: runAsUser ${uid}, not a high UID (>= 10000)`);
}

function env(c: Container, name: string): { value?: string; valueFrom?: any } {
  const e = c.env?.find((x) => x.name === name);
  assert.ok(e, `container ${c.name} has no ${name}`);
  return e;
}

// ----------------------------------------------------------------------------------------- copies

function listFiles(dir: string, ext: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(ext)).sort() : [];
}

function assertSameFiles(sourceDir: string, copyDir: string, ext: string): string[] {
  const sources = listFiles(join(repoRoot, sourceDir), ext);
  const copies = listFiles(join(repoRoot, copyDir), ext);
  const hint = 'run: node scripts/sync-chart-files.mjs';
  assert.deepEqual(copies, sources, `${copyDir} does not hold exactly the ${ext} files of ${sourceDir}; ${hint}`);
  for (const f of sources) {
    const a = readFileSync(join(repoRoot, sourceDir, f), 'utf8');
    const b = readFileSync(join(repoRoot, copyDir, f), 'utf8');
    assert.ok(a === b, `${copyDir}/${f} differs from ${sourceDir}/${f}; ${hint}`);
  }
  return sources;
}

const platformValues = (file: string): any => parse(readFileSync(join(platformDir, file), 'utf8'));

// ============================================================================================ tests

test('helm is the pinned build from scripts/tools/install.sh', () => {
  const pinned = /^HELM_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'scripts', 'tools', 'versions.env'), 'utf8'));
  assert.ok(pinned, 'HELM_VERSION is not pinned in scripts/tools/versions.env');
  const r = helm(['version', '--short']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^${pinned[1].replace(/\./g, '\\.')}`), `helm reports ${r.stdout.trim()}, versions.env pins ${pinned[1]}`);
});

for (const values of VALUES_FILES) {
  test(`helm lint --strict passes with ${values}`, () => {
    const r = helm(['lint', '--strict', chartDir, '--namespace', NAMESPACE, '--values', join(chartDir, values)]);
    assert.equal(r.status, 0, `helm lint --strict failed:\n${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test(`every object rendered with ${values} is valid for its Kubernetes API schema`, async () => {
    const objects = render(values);
    assert.ok(objects.length > 0, 'nothing rendered');
    for (const o of objects) await validateObject(o);
  });

  test(`${values}: probes on /healthy and /ready, hardened containers with resources, OTel env`, () => {
    const objects = render(values);
    const deployments = ofKind(objects, 'Deployment');
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [...WORKLOADS].sort());
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers as Container[];
      const port = c && (d.spec.template.spec.containers[0].ports ?? [])[0];
      assert.ok(c && port, `${d.metadata.name}: no container port`);
      assert.equal(c.livenessProbe?.httpGet?.path, '/healthy', `${d.metadata.name}: liveness probe`);
      assert.equal(c.readinessProbe?.httpGet?.path, '/ready', `${d.metadata.name}: readiness probe`);
      // The probes go to the probe listener (PROBE_PORT), a port of its own beside http.
      const probes = (c.ports ?? []).find((p) => p.name === 'probes');
      assert.ok(probes, `${d.metadata.name}: no probes container port`);
      assert.equal(env(c, 'PROBE_PORT').value, String(probes.containerPort));
      assert.notEqual(probes.containerPort, port.containerPort);
      for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe]) assert.ok(['probes', probes.containerPort].includes(p.httpGet.port));

      assert.equal(env(c, 'HOST').value, '0.0.0.0');
      assert.equal(env(c, 'PORT').value, String(port.containerPort));
      assert.equal(env(c, 'OTEL_SERVICE_NAME').value, d.metadata.name);
      assert.match(env(c, 'OTEL_EXPORTER_OTLP_ENDPOINT').value ?? '', /^http:\/\/otel-collector-gateway\.observability\.svc\.cluster\.local:4318$/);
      assert.match(env(c, 'OTEL_RESOURCE_ATTRIBUTES').value ?? '', new RegExp(`k8s\\.deployment\\.name=${d.metadata.name}`));
      const downward = { K8S_POD_NAME: 'metadata.name', K8S_NAMESPACE_NAME: 'metadata.namespace', K8S_NODE_NAME: 'spec.nodeName', K8S_POD_UID: 'metadata.uid' };
      for (const [name, fieldPath] of Object.entries(downward)) {
        assert.equal(env(c, name).valueFrom?.fieldRef?.fieldPath, fieldPath, `${d.metadata.name}: ${name}`);
      }
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      assert.ok(tmp, `${d.metadata.name}: no volume at /tmp (the root filesystem is read-only)`);
      const vol = (d.spec.template.spec.volumes as { name: string; emptyDir?: unknown }[]).find((v) => v.name === tmp.name);
      assert.ok(vol?.emptyDir, `${d.metadata.name}: /tmp is not an emptyDir`);

      const isInference = INFERENCE.includes(d.metadata.name);
      const req = bytes(c.resources.requests.memory);
      const lim = bytes(c.resources.limits.memory);
      const [lo, hi] = isInference ? [300 * 2 ** 20, 512 * 2 ** 20] : [128 * 2 ** 20, 256 * 2 ** 20];
      assert.ok(req >= lo && lim <= hi && req <= lim, `${d.metadata.name}: memory ${c.resources.requests.memory}..${c.resources.limits.memory} outside ${lo / 2 ** 20}Mi..${hi / 2 ** 20}Mi`);
      if (isInference) assert.equal(env(c, 'ROLE').value, d.metadata.name.replace('inference-', ''));
    }
    assert.equal(env(named(objects, 'Deployment', 'service-a').spec.template.spec.containers[0], 'SERVICE_B_URL').value, 'http://service-b:8081');
    const ensemble = named(objects, 'Deployment', 'inference-ensemble').spec.template.spec.containers[0] as Container;
    assert.equal(env(ensemble, 'EFFICIENTNETB0_URL').value, 'http://inference-efficientnetb0:8001');
    assert.equal(env(ensemble, 'MOBILENETV2_URL').value, 'http://inference-mobilenetv2:8002');

    const all = containers(objects);
    assert.equal(all.length, WORKLOADS.length + 1, 'expected the five workloads and the helm test pod');
    for (const { owner, c, pod } of all) assertHardened(owner, c, pod);
  });
}

test('the rendered images are exactly the expected repositories (and skaffold can set them)', () => {
  const repos = (objects: K8sObject[]): string[] =>
    [...new Set(containers(objects).map(({ c }) => c.image.replace(/:[^:/]+$/, '')))].sort();
  const expected = ['meridian/inference', 'meridian/service-a', 'meridian/service-b'];
  assert.deepEqual(repos(render('values.yaml')), expected);
  assert.deepEqual(repos(render('values-minimal.yaml')), expected);
  const eks = repos(render('values-eks.yaml'));
  assert.equal(eks.length, 3);
  for (const name of ['service-a', 'service-b', 'inference']) {
    assert.ok(eks.some((r) => /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/meridian\//.test(r) && r.endsWith(`/meridian/${name}`)), `no ECR image for ${name}: ${eks}`);
  }
  // The value paths skaffold's setValueTemplates targets.
  const set = render('values.yaml', [
    '--set', 'serviceA.image.repository=registry.local/a', '--set', 'serviceA.image.tag=t1',
    '--set', 'serviceB.image.repository=registry.local/b', '--set', 'serviceB.image.tag=t2',
    '--set', 'inference.image.repository=registry.local/i', '--set', 'inference.image.tag=t3',
  ]);
  const images = Object.fromEntries(ofKind(set, 'Deployment').map((d) => [d.metadata.name, d.spec.template.spec.containers[0].image]));
  assert.deepEqual(images, {
    'service-a': 'registry.local/a:t1',
    'service-b': 'registry.local/b:t2',
    'inference-ensemble': 'registry.local/i:t3',
    'inference-efficientnetb0': 'registry.local/i:t3',
    'inference-mobilenetv2': 'registry.local/i:t3',
  });
  // An optional digest pins the image instead of the tag.
  const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
  const pinned = render('values.yaml', ['--set', 'serviceA.image.tag=t1', '--set', `serviceA.image.digest=${digest}`]);
  assert.equal(named(pinned, 'Deployment', 'service-a').spec.template.spec.containers[0].image, `meridian/service-a@${digest}`);
  const appVersion = (parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;
  assert.equal(named(render('values.yaml'), 'Deployment', 'service-a').spec.template.spec.containers[0].image, `meridian/service-a:${appVersion}`);
  // helm test runs service-kit's smoke check in the service-a image: the same pinned tag or digest.
  const testPod = ofKind(render('values.yaml', ['--set', 'serviceA.image.tag=t1']), 'Pod')[0];
  assert.equal(testPod.spec.containers[0].image, 'meridian/service-a:t1');
  assert.deepEqual(testPod.spec.containers[0].command.slice(0, 2), ['node', '/app/packages/service-kit/dist/src/smoke.js']);
});

const FLAGS_SOURCE = join('observability', 'flags', 'flags.json');
const podSpec = (d: K8sObject): any => d.spec.template.spec;
const mainContainer = (d: K8sObject): Container => podSpec(d).containers[0] as Container;

for (const values of VALUES_FILES) {
  test(`${values}: the fault flags ConfigMap is observability/flags/flags.json, mounted as a directory, FLAGS_FILE inside it`, () => {
    const source = readFileSync(join(repoRoot, FLAGS_SOURCE), 'utf8');
    const hint = 'run: node scripts/sync-chart-files.mjs';
    const copy = join(chartDir, 'files', 'flags', 'flags.json');
    assert.ok(existsSync(copy), `${copy} is missing; ${hint}`);
    assert.ok(readFileSync(copy, 'utf8') === source, `deploy/helm/meridian/files/flags/flags.json differs from ${FLAGS_SOURCE}; ${hint}`);

    const objects = render(values);
    const deployments = ofKind(objects, 'Deployment');
    assert.equal(deployments.length, WORKLOADS.length);
    for (const d of deployments) {
      const where = d.metadata.name;
      const c = mainContainer(d);
      const flagsFile = env(c, 'FLAGS_FILE').value ?? '';
      const mount = c.volumeMounts?.find((m) => flagsFile.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
      assert.ok(mount, `${where}: FLAGS_FILE=${flagsFile} is not inside any volume mount`);
      assert.equal(mount.mountPath, '/etc/meridian/flags', `${where}: flags mount path`);
      // A subPath mount never sees ConfigMap updates (the kubelet swaps a symlink in the directory).
      assert.equal(mount.subPath, undefined, `${where}: the flags ConfigMap is mounted with subPath, so edits would never reach the pod`);
      assert.equal(mount.subPathExpr, undefined, `${where}: the flags ConfigMap is mounted with subPathExpr`);
      assert.equal(mount.readOnly, true, `${where}: the flags mount is writable`);
      const volume = (podSpec(d).volumes as { name: string; configMap?: { name: string; items?: unknown[] } }[]).find((v) => v.name === mount.name);
      assert.ok(volume?.configMap, `${where}: volume ${mount.name} is not a ConfigMap`);
      assert.equal(volume.configMap.items, undefined, `${where}: the flags volume projects selected keys`);

      // The file the service reads is the repo's flag file, byte for byte.
      const cm = named(objects, 'ConfigMap', volume.configMap.name);
      const key = flagsFile.slice(mount.mountPath.replace(/\/$/, '').length + 1);
      assert.ok(!key.includes('/'), `${where}: FLAGS_FILE ${flagsFile} is not directly in the mount`);
      assert.ok(cm.data && key in cm.data, `${where}: ConfigMap ${cm.metadata.name} has no key ${key} (FLAGS_FILE=${flagsFile})`);
      assert.ok(cm.data[key] === source, `ConfigMap ${cm.metadata.name} ${key} differs from ${FLAGS_SOURCE}`);
      assert.doesNotThrow(() => JSON.parse(cm.data![key]!), `${cm.metadata.name}: ${key} is not JSON`);

      // Unsafe faults (crash, cpu-hog, memory-growth) are off unless asked for.
      assert.equal(env(c, 'FAULTS_UNSAFE_ENABLED').value, 'false', `${where}: FAULTS_UNSAFE_ENABLED`);
    }
  });
}

test('faults: unsafe=true reaches FAULTS_UNSAFE_ENABLED; enabled=false drops the ConfigMap, the mount and FLAGS_FILE', () => {
  for (const d of ofKind(render('values.yaml', ['--set', 'faults.unsafe=true']), 'Deployment')) {
    assert.equal(env(mainContainer(d), 'FAULTS_UNSAFE_ENABLED').value, 'true', d.metadata.name);
  }
  const off = render('values.yaml', ['--set', 'faults.enabled=false']);
  assert.deepEqual(ofKind(off, 'ConfigMap').filter((c) => c.metadata.name.endsWith('-flags')), [], 'flags ConfigMap rendered with faults.enabled=false');
  for (const d of ofKind(off, 'Deployment')) {
    const c = mainContainer(d);
    // A FLAGS_FILE without its file would stop the service at startup.
    assert.equal(c.env?.find((e) => e.name === 'FLAGS_FILE'), undefined, `${d.metadata.name}: FLAGS_FILE without the flags`);
    assert.ok(!c.volumeMounts?.some((m) => m.mountPath.startsWith('/etc/meridian/flags')), `${d.metadata.name}: flags still mounted`);
    assert.ok(!(podSpec(d).volumes as { configMap?: unknown }[]).some((v) => v.configMap), `${d.metadata.name}: a ConfigMap volume is left`);
  }
});

test('shutdown and resilience values reach every container; terminationGracePeriodSeconds covers drain + timeout', () => {
  const cases: [string, string[], Record<string, string>][] = [
    ['defaults', [], { SHUTDOWN_DRAIN_MS: '5000', SHUTDOWN_TIMEOUT_MS: '20000', HTTP_RETRIES: '2', HTTP_BREAKER_THRESHOLD: '5', HTTP_BREAKER_HALF_OPEN_MS: '5000' }],
    [
      'overrides',
      ['--set', 'shutdown.drainMs=12345', '--set', 'shutdown.timeoutMs=60000', '--set', 'resilience.retries=0', '--set', 'resilience.breakerThreshold=3', '--set', 'resilience.breakerHalfOpenMs=250000'],
      { SHUTDOWN_DRAIN_MS: '12345', SHUTDOWN_TIMEOUT_MS: '60000', HTTP_RETRIES: '0', HTTP_BREAKER_THRESHOLD: '3', HTTP_BREAKER_HALF_OPEN_MS: '250000' },
    ],
  ];
  for (const [what, args, expected] of cases) {
    for (const d of ofKind(render('values.yaml', args), 'Deployment')) {
      const c = mainContainer(d);
      for (const [name, value] of Object.entries(expected)) assert.equal(env(c, name).value, value, `${what}: ${d.metadata.name} ${name}`);
      const drainMs = Number(env(c, 'SHUTDOWN_DRAIN_MS').value);
      const timeoutMs = Number(env(c, 'SHUTDOWN_TIMEOUT_MS').value);
      const grace = podSpec(d).terminationGracePeriodSeconds as number;
      assert.ok(
        Number.isInteger(grace) && grace >= (drainMs + timeoutMs) / 1000 + 5,
        `${what}: ${d.metadata.name} terminationGracePeriodSeconds ${grace} < (${drainMs} + ${timeoutMs}) / 1000 + 5: the kubelet would SIGKILL a graceful shutdown`,
      );
    }
  }
});

test('values.schema.json rejects invalid values (helm exits non-zero naming the schema)', () => {
  const bad: [string, string[]][] = [
    ['negative replicas', ['--set', 'serviceA.replicas=-1']],
    ['unknown ingress provider', ['--set', 'ingress.provider=haproxy']],
    ['empty image repository', ['--set', 'inference.image.repository=']],
    ['misspelt key', ['--set', 'serviceB.replica=3']],
    ['wrong type', ['--set-string', 'autoscaling.enabled=yes']],
    ['malformed image digest', ['--set', 'inference.image.digest=abc123']],
    ['low pod UID', ['--set', 'podSecurityContext.runAsUser=1000']],
    ['negative shutdown drain', ['--set', 'shutdown.drainMs=-1']],
    ['shutdown bound below the service minimum', ['--set', 'shutdown.timeoutMs=50']],
    ['retries above the service maximum', ['--set', 'resilience.retries=11']],
    ['string for a boolean fault switch', ['--set-string', 'faults.unsafe=yes']],
    ['misspelt faults key', ['--set', 'faults.enable=false']],
  ];
  for (const [what, args] of bad) {
    const r = helm(templateArgs('values.yaml', args));
    assert.notEqual(r.status, 0, `${what} (${args.join(' ')}) was accepted`);
    assert.match(r.stderr, /schema/i, `${what}: the error does not mention the schema:\n${r.stderr}`);
  }
  // Control: a valid override renders.
  assert.equal(helm(templateArgs('values.yaml', ['--set', 'serviceA.replicas=3', '--set', 'ingress.provider=nginx', '--set', 'ingress.className=nginx'])).status, 0);
});

test('default values: HPA, PDB, ServiceMonitor per workload; values-minimal: none of them, one replica, no Ingress', () => {
  const full = render('values.yaml');
  for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ServiceMonitor', 'Service']) {
    assert.deepEqual(ofKind(full, kind).map((o) => o.metadata.name).sort(), [...WORKLOADS].sort(), kind);
  }
  for (const d of ofKind(full, 'Deployment')) assert.equal(d.spec.replicas, undefined, `${d.metadata.name}: replicas fights the HPA`);
  for (const h of ofKind(full, 'HorizontalPodAutoscaler')) assert.equal(h.spec.scaleTargetRef.name, h.metadata.name);

  const minimal = render('values-minimal.yaml');
  for (const kind of ['HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor', 'PrometheusRule', 'Ingress']) {
    assert.deepEqual(ofKind(minimal, kind), [], `values-minimal renders a ${kind}`);
  }
  for (const d of ofKind(minimal, 'Deployment')) assert.equal(d.spec.replicas, 1, d.metadata.name);
});

test('ServiceMonitors: job label = service name, /metrics on the http port of the matching Service', () => {
  const objects = render('values.yaml');
  for (const sm of ofKind(objects, 'ServiceMonitor')) {
    const svc = named(objects, 'Service', sm.metadata.name);
    assert.equal(sm.spec.jobLabel, 'app.kubernetes.io/name');
    assert.equal(svc.metadata.labels?.['app.kubernetes.io/name'], sm.metadata.name, 'the job would not be the service name');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels as Record<string, string>)) {
      assert.equal(svc.metadata.labels?.[k], v, `${sm.metadata.name}: selector ${k}=${v} misses its Service`);
    }
    assert.deepEqual(sm.spec.endpoints.map((e: { port: string; path: string }) => [e.port, e.path]), [['http', '/metrics']]);
    assert.ok(svc.spec.ports.some((p: { name: string }) => p.name === 'http'));
  }
});

test('NetworkPolicies: default deny, then only the call graph, scraping, DNS and the collector', () => {
  const np = ofKind(render('values.yaml'), 'NetworkPolicy');
  const deny = np.find((p) => p.metadata.name.endsWith('-default-deny'));
  assert.ok(deny, 'no default-deny policy');
  assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(deny.spec.ingress, undefined);
  assert.equal(deny.spec.egress, undefined);

  /** Which pods (by app.kubernetes.io/name) may reach `to`, from the policies selecting it. */
  const podSources = (to: string): string[] =>
    np
      .filter((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === to)
      .flatMap((p) => (p.spec.ingress ?? []).flatMap((r: { from?: any[] }) => r.from ?? []))
      .map((peer: any) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'])
      .filter(Boolean)
      .sort();
  assert.deepEqual(podSources('service-b'), ['service-a']);
  assert.deepEqual(podSources('inference-efficientnetb0'), ['inference-ensemble']);
  assert.deepEqual(podSources('inference-mobilenetv2'), ['inference-ensemble']);
  assert.deepEqual(podSources('service-a'), ['helm-test']);
  assert.deepEqual(podSources('inference-ensemble'), ['helm-test']);
  for (const publicName of ['service-a', 'inference-ensemble']) {
    const fromIngress = np.find((p) => p.metadata.name === `${publicName}-from-ingress`);
    assert.ok(fromIngress?.spec.ingress[0].from.some((peer: any) => peer.namespaceSelector), `${publicName}: ingress controller not allowed`);
  }
  const shared = np.find((p) => p.metadata.name.endsWith('-telemetry'));
  assert.ok(shared, 'no telemetry policy');
  assert.equal(shared.spec.ingress[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'observability');
  const egressPorts = shared.spec.egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port)).sort();
  assert.deepEqual(egressPorts, [4317, 4318, 53, 53]);
  // EKS: the ALB's VPC addresses instead of an ingress-controller namespace.
  const eks = ofKind(render('values-eks.yaml'), 'NetworkPolicy').find((p) => p.metadata.name === 'service-a-from-ingress');
  assert.ok(eks?.spec.ingress[0].from.some((peer: any) => peer.ipBlock?.cidr), 'values-eks: no ipBlock for the ALB');
});

test('Ingresses: public routes to service-a and /ensemble; OTLP over TLS to the gateway edge port; class per provider', () => {
  const objects = render('values.yaml');
  const ingresses = ofKind(objects, 'Ingress');
  assert.equal(ingresses.length, 2);
  const pub = ingresses.find((i) => !i.metadata.name.endsWith('-otlp'));
  const otlp = ingresses.find((i) => i.metadata.name.endsWith('-otlp'));
  assert.ok(pub && otlp);
  const routes = (i: K8sObject): string[] =>
    i.spec.rules.flatMap((r: any) => r.http.paths.map((p: any) => `${p.path} ${p.backend.service.name}:${p.backend.service.port.name ?? p.backend.service.port.number}`));
  assert.deepEqual(routes(pub), ['/ensemble inference-ensemble:http', '/ service-a:http']);
  assert.equal(pub.spec.ingressClassName, 'alb');
  assert.equal(pub.metadata.annotations?.['alb.ingress.kubernetes.io/target-type'], 'ip');
  assert.equal(otlp.metadata.namespace, 'observability', 'the OTLP Ingress must live beside the collector Service');
  assert.deepEqual(routes(otlp), ['/v1/traces otel-collector-gateway:4319', '/v1/metrics otel-collector-gateway:4319', '/v1/logs otel-collector-gateway:4319']);
  assert.equal(otlp.metadata.annotations?.['alb.ingress.kubernetes.io/listen-ports'], '[{"HTTPS":443}]', 'OTLP Ingress is not TLS-only');
  assert.equal(otlp.metadata.annotations?.['meridian.io/bearer-token-secret'], 'meridian-edge-otlp-token/token');
  // The collector reads the token from that same Secret.
  const gw = platformValues('otel-collector-gateway.yaml');
  const tokenEnv = (gw.extraEnvs as { name: string; valueFrom?: any }[]).find((e) => e.name === 'EDGE_OTLP_TOKEN');
  assert.deepEqual(tokenEnv?.valueFrom?.secretKeyRef, { name: 'meridian-edge-otlp-token', key: 'token' });
  const eksOtlp = ofKind(render('values-eks.yaml'), 'Ingress').find((i) => i.metadata.name.endsWith('-otlp'));
  assert.equal(eksOtlp?.metadata.annotations?.['alb.ingress.kubernetes.io/listen-ports'], '[{"HTTPS":443}]');

  // A local cluster: Traefik or nginx, TLS from a Secret, no ALB annotations.
  for (const provider of ['traefik', 'nginx']) {
    const local = ofKind(render('values.yaml', ['--set', `ingress.provider=${provider}`, '--set', `ingress.className=${provider}`, '--set', 'otlpIngress.tls.secretName=otlp-tls']), 'Ingress');
    for (const i of local) {
      assert.equal(i.spec.ingressClassName, provider);
      assert.ok(!Object.keys(i.metadata.annotations ?? {}).some((k) => k.startsWith('alb.')), `${provider}: ALB annotations on ${i.metadata.name}`);
    }
    assert.deepEqual(local.find((i) => i.metadata.name.endsWith('-otlp'))?.spec.tls, [{ secretName: 'otlp-tls' }]);
  }
  // Traefik serves an Ingress over TLS only when its router says so: the OTLP one always, the app's with ingress.tls.
  const traefikTls = { 'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure', 'traefik.ingress.kubernetes.io/router.tls': 'true' };
  const traefik = (extra: string[]) => ofKind(render('values.yaml', ['--set', 'ingress.provider=traefik', '--set', 'ingress.className=traefik', ...extra]), 'Ingress');
  const annotationsOf = (list: any[], otlp: boolean) => list.find((i) => i.metadata.name.endsWith('-otlp') === otlp)?.metadata.annotations ?? {};
  assert.deepEqual(pick(annotationsOf(traefik([]), true), Object.keys(traefikTls)), traefikTls, 'the OTLP Ingress is TLS on Traefik');
  assert.deepEqual(pick(annotationsOf(traefik([]), false), Object.keys(traefikTls)), {}, 'no TLS router for the app without ingress.tls');
  assert.deepEqual(pick(annotationsOf(traefik(['--set', 'ingress.tls.enabled=true', '--set', 'ingress.tls.secretName=app-tls']), false), Object.keys(traefikTls)), traefikTls);
});

function pick(o: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

test('PrometheusRules are the repo rule files (observability/prometheus/rules), unchanged', () => {
  const files = assertSameFiles('observability/prometheus/rules', 'deploy/helm/meridian/files/rules', '.yml');
  assert.ok(files.length > 0, 'no rule files found');
  const rules = ofKind(render('values.yaml'), 'PrometheusRule');
  assert.equal(rules.length, files.length, 'one PrometheusRule per rule file');
  for (const f of files) {
    const source = parse(readFileSync(join(repoRoot, 'observability', 'prometheus', 'rules', f), 'utf8'));
    const rule = rules.find((r) => r.metadata.name === `meridian-${f.replace(/\.yml$/, '').replace(/\.rules$/, '')}`);
    assert.ok(rule, `no PrometheusRule for ${f}`);
    assert.deepEqual(rule.spec, source, `PrometheusRule ${rule.metadata.name} differs from ${f}`);
  }
});

test('Grafana dashboards: copies equal observability/grafana/dashboards, one sidecar ConfigMap each', () => {
  const files = assertSameFiles('observability/grafana/dashboards', 'deploy/helm/meridian/files/dashboards', '.json');
  const maps = ofKind(render('values.yaml'), 'ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard === '1');
  assert.equal(maps.length, files.length);
  for (const f of files) {
    const cm = maps.find((m) => m.data && f in m.data);
    assert.ok(cm, `no dashboard ConfigMap carries ${f}`);
    const source = readFileSync(join(repoRoot, 'observability', 'grafana', 'dashboards', f), 'utf8');
    assert.deepEqual(JSON.parse(cm.data![f]), JSON.parse(source), `${f} differs in its ConfigMap`);
  }
});

test('node scripts/sync-chart-files.mjs --check finds every copy in sync', () => {
  const r = exec(process.execPath, [join(repoRoot, 'scripts', 'sync-chart-files.mjs'), '--check']);
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});

/** How helm merges values files and the collector merges config files: maps merge, the rest is replaced. */
function mergeValues(base: unknown, over: unknown): unknown {
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeValues(base[k], v) : v;
  return out;
}

test('kubernetes.yaml adds k8s_attributes to every pipeline of config.yaml, after memory_limiter and before batch, sends the logs to the file (EFK) and changes nothing else there', () => {
  const base = parse(readFileSync(join(repoRoot, 'observability', 'collector', 'config.yaml'), 'utf8'));
  const k8s = parse(readFileSync(join(repoRoot, 'observability', 'collector', 'kubernetes.yaml'), 'utf8'));
  assert.deepEqual(Object.keys(k8s.service.pipelines).sort(), Object.keys(base.service.pipelines).sort(), 'the same pipelines');
  for (const [name, pipeline] of Object.entries(base.service.pipelines as Record<string, { processors: string[] }>)) {
    const want = [...pipeline.processors];
    want.splice(want.indexOf('memory_limiter') + 1, 0, 'k8s_attributes');
    const exporters = name === 'logs' ? { exporters: ['file/logs'] } : {};
    assert.deepEqual(k8s.service.pipelines[name], { processors: want, ...exporters }, `${name}: config.yaml's processors with k8s_attributes after memory_limiter${name === 'logs' ? ', the file exporter' : ''}, nothing else`);
  }
});

test('gateway collector values carry the repo collector config and its in-cluster additions unchanged, and otelcol validate accepts the merge', () => {
  const source = parse(readFileSync(join(repoRoot, 'observability', 'collector', 'config.yaml'), 'utf8'));
  const k8s = parse(readFileSync(join(repoRoot, 'observability', 'collector', 'kubernetes.yaml'), 'utf8'));
  const first = platformValues('otel-collector-gateway.yaml');
  const second = platformValues('otel-collector-gateway-k8s-attributes.yaml');
  assert.equal(first.mode, 'deployment');
  assert.deepEqual(first.alternateConfig, source, 'otel-collector-gateway.yaml alternateConfig differs from observability/collector/config.yaml: run node scripts/sync-chart-files.mjs');
  assert.deepEqual(second.alternateConfig, k8s, 'otel-collector-gateway-k8s-attributes.yaml alternateConfig differs from observability/collector/kubernetes.yaml: run node scripts/sync-chart-files.mjs');
  assert.equal(first.config, undefined, 'config would be merged with the chart defaults; use alternateConfig only');
  assert.ok(second.clusterRole.create, 'the gateway gets the ClusterRole k8s_attributes needs');
  const gw = mergeValues(first, second) as typeof first;

  // Validate with the environment the gateway pod gets (plain values; the Secret's token faked).
  const podEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const e of gw.extraEnvs as { name: string; value?: string }[]) if (e.value !== undefined) podEnv[e.name] = e.value;
  podEnv.EDGE_OTLP_TOKEN = 'test-token';
  const dir = mkdtempSync(join(tmpdir(), 'meridian-gw-'));
  try {
    const path = join(dir, 'config.yaml');
    // The merged embedded copies (JSON is YAML), as the chart hands them to the collector.
    writeFileSync(path, JSON.stringify(gw.alternateConfig));
    const r = exec(tool('otelcol-k8s'), ['validate', `--config=${path}`], podEnv);
    assert.equal(r.status, 0, `otelcol validate failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The gateway listens where the app chart and the OTLP Ingress send.
  const ports = Object.fromEntries(Object.entries(gw.ports as Record<string, { enabled: boolean; containerPort?: number }>).filter(([, p]) => p.enabled).map(([k, p]) => [k, p.containerPort]));
  for (const port of [4317, 4318, 4319, 8888, 8889, 13133]) assert.ok(Object.values(ports).includes(port), `gateway does not expose ${port}`);
  const agent = platformValues('otel-collector-agent.yaml');
  assert.equal(agent.mode, 'daemonset');
  assert.equal(agent.presets.kubeletMetrics.enabled, true);
  assert.equal(agent.presets.kubernetesAttributes.enabled, true);
  assert.match(agent.config.exporters['otlp_grpc/gateway'].endpoint, /^otel-collector-gateway\.observability\.svc\.cluster\.local:4317$/);
});

test('kube-prometheus-stack values: Alertmanager runs the repo config (amtool check-config), Prometheus selects every ServiceMonitor', () => {
  const source = parse(readFileSync(join(repoRoot, 'observability', 'alertmanager', 'alertmanager.yml'), 'utf8'));
  const kps = platformValues('kube-prometheus-stack.yaml');
  assert.deepEqual(kps.alertmanager.config, source, 'alertmanager.config differs from observability/alertmanager/alertmanager.yml: run node scripts/sync-chart-files.mjs');
  const dir = mkdtempSync(join(tmpdir(), 'meridian-am-'));
  try {
    const path = join(dir, 'alertmanager.yml');
    writeFileSync(path, readFileSync(join(repoRoot, 'observability', 'alertmanager', 'alertmanager.yml'), 'utf8'));
    const r = exec(tool('amtool'), ['check-config', path]);
    assert.equal(r.status, 0, `amtool check-config failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const spec = kps.prometheus.prometheusSpec;
  assert.equal(spec.serviceMonitorSelectorNilUsesHelmValues, false);
  assert.deepEqual(spec.serviceMonitorSelector, {});
  assert.deepEqual(spec.ruleSelector, {});
  const monitors = kps.prometheus.additionalServiceMonitors as { name: string; endpoints: any[] }[];
  assert.equal(monitors.find((m) => m.name === 'otel-collector')?.endpoints[0].relabelings[0].replacement, 'otel-collector');
  assert.equal(monitors.find((m) => m.name === 'otel-collector-exporter')?.endpoints[0].honorLabels, true);
  assert.equal(kps.grafana.sidecar.dashboards.label, 'grafana_dashboard');
  assert.equal(kps.grafana.sidecar.dashboards.searchNamespace, 'ALL');
});

test('jaeger values: the Jaeger v2 config stores traces in OpenSearch, and jaeger validate accepts it', () => {
  const jaeger = platformValues('jaeger.yaml');
  const backends = jaeger.userconfig.extensions.jaeger_storage.backends as Record<string, Record<string, unknown>>;
  const store = jaeger.userconfig.extensions.jaeger_query.storage.traces as string;
  assert.ok(backends[store]?.opensearch || backends[store]?.elasticsearch, `trace storage ${store} is not OpenSearch/Elasticsearch`);
  const dir = mkdtempSync(join(tmpdir(), 'meridian-jaeger-'));
  try {
    const path = join(dir, 'config.yaml');
    writeFileSync(path, JSON.stringify(jaeger.userconfig));
    const r = exec(tool('jaeger'), ['validate', `--config=${path}`]);
    assert.equal(r.status, 0, `jaeger validate failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Its OTLP gRPC port is where the gateway exports.
  const gwEnv = (platformValues('otel-collector-gateway.yaml').extraEnvs as { name: string; value?: string }[]).find((e) => e.name === 'JAEGER_OTLP_ENDPOINT');
  assert.match(gwEnv?.value ?? '', new RegExp(`:${String(jaeger.userconfig.receivers.otlp.protocols.grpc.endpoint).split(':').pop()}$`));
});

test('platform install.sh --dry-run: every values file, a pinned chart version, --wait, namespace observability', () => {
  const r = exec('bash', [join(platformDir, 'install.sh'), '--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  const installs = r.stdout.split('\n').filter((l) => l.startsWith('+ helm upgrade --install '));
  const valuesFiles = listFiles(platformDir, '.yaml');
  // One release per values file, except a second values file that adds to a release.
  const firstValues = installs.map((l) => / --values \S*\/([\w.-]+\.yaml) /.exec(l)?.[1]);
  assert.equal(installs.length, new Set(firstValues).size, `expected one release per first values file:\n${r.stdout}`);
  for (const f of valuesFiles) {
    assert.equal(installs.filter((l) => l.includes(`/${f} `)).length, 1, `${f} is in exactly one helm install`);
    const line = installs.find((l) => l.includes(`/${f}`));
    assert.ok(line, `${f} is not installed by install.sh`);
    assert.match(line, / --version \d+\.\d+\.\d+ /, `${f}: chart version not pinned`);
    assert.match(line, / --namespace observability /);
    assert.match(line, / --wait /);
  }
  assert.ok(r.stdout.indexOf('kube-prometheus-stack') < r.stdout.indexOf('otel-collector-gateway'), 'the CRDs (kube-prometheus-stack) come first');
  const bad = exec('bash', [join(platformDir, 'install.sh'), '--bogus']);
  assert.notEqual(bad.status, 0);
});

test('helm test pod: service-kit\'s smoke check of service-a /call-service-b and the ensemble /healthy', () => {
  const pod = ofKind(render('values.yaml'), 'Pod')[0];
  assert.ok(pod, 'no test pod');
  assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
  assert.equal(pod.spec.restartPolicy, 'Never');
  // smoke.js exits non-zero unless each URL answers 200 (packages/service-kit/test/smoke.test.ts).
  assert.deepEqual(pod.spec.containers[0].command, [
    'node', '/app/packages/service-kit/dist/src/smoke.js', 'http://service-a:8080/call-service-b', 'http://inference-ensemble:8000/healthy',
  ]);
  assert.ok(existsSync(join(repoRoot, 'packages/service-kit/src/smoke.ts')));
});

test('install.sh and deploy/terraform/platform.tf install the same charts, versions and values files', () => {
  const tf = readFileSync(join(repoRoot, 'deploy', 'terraform', 'platform.tf'), 'utf8');
  const block = /chart_versions\s*=\s*\{([^}]*)\}/.exec(tf);
  assert.ok(block, 'chart_versions not found in deploy/terraform/platform.tf');
  const tfVersions = Object.fromEntries([...block[1].matchAll(/(\w+)\s*=\s*"([^"]+)"/g)].map((m) => [m[1], m[2]]));
  const sh = readFileSync(join(platformDir, 'install.sh'), 'utf8');
  const shVersion = (name: string): string | undefined => new RegExp(`^${name}_CHART_VERSION=(\\S+)$`, 'm').exec(sh)?.[1];
  const pairs: [string, string][] = [
    ['opensearch', 'OPENSEARCH'],
    ['kube_prometheus_stack', 'KUBE_PROMETHEUS_STACK'],
    ['jaeger', 'JAEGER'],
    ['opentelemetry_collector', 'OTEL_COLLECTOR'],
    ['fluent_bit', 'FLUENT_BIT'],
  ];
  for (const [tfName, shName] of pairs) {
    assert.ok(tfVersions[tfName], `platform.tf pins no ${tfName}`);
    assert.equal(shVersion(shName), tfVersions[tfName], `${tfName}: install.sh ${shVersion(shName)} vs platform.tf ${tfVersions[tfName]}`);
  }
  for (const m of tf.matchAll(/helm\/platform\/([\w.-]+\.yaml)/g)) {
    assert.ok(existsSync(join(platformDir, m[1])), `platform.tf reads deploy/helm/platform/${m[1]}, which does not exist`);
  }
});
