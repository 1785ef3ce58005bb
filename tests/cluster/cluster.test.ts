// A real Kubernetes on this machine (scripts/tools/cluster.sh: Kubernetes built from source, etcd,
// containerd, CNI, kube-proxy, CoreDNS), and the chart installed into it as users install it.
// First the platform's stand-ins (tests/cluster/platform-standins.yaml: the collector with the
// repo's config, Jaeger, Traefik as the Ingress controller; the Prometheus Operator with the CRDs
// and RBAC of its module and the Prometheus 3 of tests/cluster/prometheus.yaml); then the images
// built from the repo's Dockerfiles and pushed to the cluster's registry, `helm install` of
// deploy/helm/meridian with the values meant for a small cluster, every pod Ready through its real
// probes, `helm test`, /call-service-b through the Service, the edge outside the cluster sending
// through the Ingress into one trace in the in-cluster Jaeger (a wrong token refused), a killed
// pod replaced, `helm upgrade` rolled out under a request loop without an error, the
// ServiceMonitors scraping every pod and the PrometheusRules loaded, /crash three times firing
// ServiceRestarting, `helm uninstall` leaving nothing; then skaffold as users run it
// (`skaffold run -p local,push` to the registry, `skaffold delete`, and a bounded `skaffold dev`
// that rebuilds and redeploys a code change), and `cluster.sh down` leaving nothing. Bad values
// are refused by the chart's schema and by the API server, each with its own message. The times
// are printed. `npm test -- cluster` runs this file alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import sharp from 'sharp';
import { parse as parseYaml } from 'yaml';
import {
  dockerEngine,
  freePorts,
  poll,
  ServiceProcess,
  npmBuildSecrets,
  pinnedVersions,
  REPO_ROOT,
  request,
  runCommand,
  SKIP_CONTAINERS,
  SKIP_REASON,
  startProcess,
  toolPath,
  toolsBinDir,
  type DockerEngine,
  type ToolProcess,
} from '@meridian/test-kit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET on a connection of its own (no keep-alive pool): the status and body, or status 0 and the error. */
function freshRequest(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, body: String(err) }));
  });
}
const freshGet = async (url: string) => (await freshRequest(url)).status;
const CLUSTER = path.join(REPO_ROOT, 'scripts/tools/cluster.sh');
const CHART = path.join(REPO_ROOT, 'deploy/helm/meridian');
const TAG = `cluster-${process.pid}`;
const NS = `meridian-test-${process.pid}`;
// skaffold.yaml's release namespace (the cluster is the test's own).
const SKAFFOLD_NS = 'meridian';
const TLS_SECRET = 'meridian-ingress-tls';
const EDGE_TRACE_SERVICES = ['preprocessing-edge', 'inference-ensemble', 'inference-efficientnetb0', 'inference-mobilenetv2'];

/** A pin of scripts/tools/versions.env (upstream image names, versions). */
function pinned(key: string): string {
  const value = pinnedVersions()[key];
  assert.ok(value, `${key} in versions.env`);
  return value;
}

interface JaegerTrace {
  traceID: string;
  spans: { spanID: string; processID: string; tags: { key: string; value: unknown }[] }[];
  processes: Record<string, { serviceName: string; tags: { key: string; value: unknown }[] }>;
}
interface PodJson {
  metadata: { name: string; creationTimestamp: string; labels: Record<string, string>; ownerReferences?: { kind: string; name: string }[] };
}
const IMAGES = [
  // One per repository the chart runs (the edge image is not deployed in the cluster).
  { image: 'meridian/service-a', args: ['--build-arg', 'SERVICE=service-a', '--build-arg', 'PORT=8080', '-f', 'services/Dockerfile'] },
  { image: 'meridian/service-b', args: ['--build-arg', 'SERVICE=service-b', '--build-arg', 'PORT=8081', '-f', 'services/Dockerfile'] },
  { image: 'meridian/inference', args: ['-f', 'services/inference/Dockerfile'] },
];
/** The values for a small local cluster, and the images just pushed to its registry. */
const values = (registry: string) => [
  '-f', path.join(CHART, 'values-minimal.yaml'),
  ...[['serviceA', 'meridian/service-a'], ['serviceB', 'meridian/service-b'], ['inference', 'meridian/inference']].flatMap(([key, image]) => [
    '--set', `${key}.image.repository=${registry}/${image}`, '--set', `${key}.image.tag=${TAG}`,
  ]),
  // Two service-a replicas and their PDB, so that an upgrade keeps one serving.
  '--set', 'serviceA.replicas=2', '--set', 'podDisruptionBudget.enabled=true',
  // The public routes and the edge's OTLP through Traefik, TLS for the name `localhost`.
  '--set', 'ingress.enabled=true', '--set', 'ingress.provider=traefik', '--set', 'ingress.className=traefik',
  '--set', 'ingress.host=localhost', '--set', 'ingress.tls.enabled=true', '--set', `ingress.tls.secretName=${TLS_SECRET}`,
  '--set', 'otlpIngress.enabled=true', '--set', 'otlpIngress.host=localhost', '--set', `otlpIngress.tls.secretName=${TLS_SECRET}`,
  // ServiceMonitors and PrometheusRules for the operator's Prometheus; /crash for the restart alert.
  '--set', 'monitoring.enabled=true', '--set', 'monitoring.interval=5s', '--set', 'serviceA.crashEnabled=true',
];

describe('the chart on a real Kubernetes', { skip: SKIP_CONTAINERS ? SKIP_REASON : false, timeout: 1_200_000 }, () => {
  let engine: DockerEngine;
  let kubeconfig = '';
  let registry = '';
  let VALUES: string[] = [];
  const figures: string[] = [];
  const kubectl = (args: string[], timeoutMs = 60_000) => runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeoutMs });
  const kubectlOk = async (args: string[], timeoutMs?: number) => {
    const r = await kubectl(args, timeoutMs);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.output.slice(-3000)}`);
    return r.stdout.trim();
  };
  const helm = (args: string[], timeoutMs = 300_000) =>
    runCommand(toolPath('helm'), ['--kubeconfig', kubeconfig, ...args], { timeoutMs });
  const serviceUrl = async (name: string, port: number, ns = NS) => `http://${await kubectlOk(['-n', ns, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])}:${port}`;
  // skaffold as a user runs it: skaffold.yaml's local profile, the images pushed to the cluster's
  // registry under their multi-level names, helm and docker from the tools, npm's registry and CA
  // as the npm-secrets profile reads them (from a HOME of the test's own).
  let skaffoldHome = '';
  const skaffoldEnv = (): NodeJS.ProcessEnv => ({
    ...engine.env,
    HOME: skaffoldHome,
    KUBECONFIG: kubeconfig,
    PATH: `${toolsBinDir()}:${process.env.PATH}`,
    SKAFFOLD_UPDATE_CHECK: 'false',
    SKAFFOLD_INTERACTIVE: 'false',
  });
  const skaffoldTarget = () => ['--default-repo', registry, '--kube-context', 'meridian'];
  const skaffold = (args: string[], cwd: string, timeoutMs: number) => runCommand(toolPath('skaffold'), args, { cwd, env: skaffoldEnv(), timeoutMs });
  const note = (t: { diagnostic(s: string): void }, line: string) => {
    figures.push(line);
    t.diagnostic(line);
  };

  before(async () => {
    const started = Date.now();
    const up = await runCommand('bash', [CLUSTER, 'up'], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, `cluster.sh up:\n${up.output.slice(-4000)}`);
    kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up.stdout)![1];
    registry = /^REGISTRY=(.+)$/m.exec(up.stdout)![1];
    VALUES = values(registry);
    figures.push(`cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    engine = await dockerEngine();
    skaffoldHome = mkdtempSync(path.join(os.tmpdir(), 'meridian-skaffold-home-'));
    const secrets = npmBuildSecrets();
    mkdirSync(path.join(skaffoldHome, '.config/meridian'), { recursive: true });
    cpSync(secrets.files.npmrc, path.join(skaffoldHome, '.config/meridian/npmrc'));
    if (secrets.files.npmca) cpSync(secrets.files.npmca, path.join(skaffoldHome, '.config/meridian/npmca.pem'));
    else writeFileSync(path.join(skaffoldHome, '.config/meridian/npmca.pem'), '');
    secrets.cleanup();
    mkdirSync(path.join(skaffoldHome, '.skaffold'));
    writeFileSync(path.join(skaffoldHome, '.skaffold/config'), 'global:\n  multi-level-repo: true\n');
  });

  after(async () => {
    if (kubeconfig) {
      await helm(['uninstall', 'meridian', '-n', NS, '--wait', '--timeout', '60s'], 90_000);
      await kubectl(['delete', 'namespace', NS, '--wait=false']);
    }
    const down = await runCommand('bash', [CLUSTER, 'down'], { timeoutMs: 180_000 });
    if (down.code !== 0) console.log(`# cluster.sh down:\n${down.output}`);
    if (skaffoldHome) rmSync(skaffoldHome, { recursive: true, force: true });
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
    if (engine) {
      for (const { image } of IMAGES) await engine.docker(['rmi', `${image}:${TAG}`, `${registry}/${image}:${TAG}`]);
      // What skaffold built and tagged with the registry's name.
      const built = await engine.docker(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${registry}/meridian/*`]);
      const tags = built.stdout.split('\n').filter(Boolean);
      if (tags.length) await engine.docker(['rmi', ...tags]);
      await engine.stop();
    }
    if (figures.length) console.log(`# cluster: ${figures.join('; ')}`);
  });

  test('the node is Ready, CoreDNS runs, and the API server refuses a bad object with its own message', async () => {
    assert.match(await kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']), /^True$/);
    assert.equal(await kubectlOk(['-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'jsonpath={.status.readyReplicas}']), '1');
    const bad = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad', namespace: 'default' }, dataa: { x: '1' } });
    const r = await runCommand('bash', ['-c', `printf '%s' '${bad}' | kubectl --kubeconfig '${kubeconfig}' apply --dry-run=server --validate=strict -f -`]);
    assert.notEqual(r.code, 0, 'the API server accepted an unknown field');
    assert.match(r.output, /unknown field "dataa"/, r.output);
  });

  test('the chart\'s schema refuses a bad value before anything reaches the cluster', async () => {
    const r = await helm(['install', 'meridian-bad', CHART, '-n', 'default', '--dry-run=server', ...VALUES, '--set', 'serviceA.replicas=-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /values don't meet the specifications of the schema/, r.output);
    assert.match(r.output, /serviceA\.replicas|replicas/);
  });

  const prometheusUrl = async () => `http://${await kubectlOk(['-n', 'default', 'get', 'pod', 'prometheus-meridian-0', '-o', 'jsonpath={.status.podIP}'])}:9090`;
  const promQuery = async (q: string) =>
    ((await request(`${await prometheusUrl()}/api/v1/query?query=${encodeURIComponent(q)}`)).json as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
  let tlsDir = '';
  let ingressPort = 0;
  const edgeToken = randomBytes(24).toString('hex');

  test('the platform\'s stand-ins run: the collector with the repo\'s config, Jaeger, and Traefik as the Ingress controller', async (t) => {
    const startedAt = Date.now();
    // The node base image too, for the image builds below (where nothing can be pulled).
    const standins = await runCommand('bash', [path.join(REPO_ROOT, 'scripts/images/standins.sh'), 'node', 'otelcol', 'jaeger', 'traefik', 'prometheus', 'prometheus-operator'], {
      env: engine.env,
      timeoutMs: 900_000,
    });
    assert.equal(standins.code, 0, `standins.sh:\n${standins.output.slice(-3000)}`);
    // Pushed under their upstream names: the cluster's registry mirrors docker.io and quay.io.
    for (const key of ['OTELCOL_IMAGE', 'JAEGER_IMAGE', 'TRAEFIK_IMAGE', 'PROMETHEUS_IMAGE', 'PROMETHEUS_OPERATOR_IMAGE', 'PROMETHEUS_CONFIG_RELOADER_IMAGE']) {
      const image = pinned(key);
      const repo = image.replace(/^quay\.io\//, '');
      const target = `${registry}/${repo.includes('/') ? repo : `library/${repo}`}`;
      await engine.ok(['tag', image, target]);
      await engine.ok(['push', target], { timeoutMs: 300_000 });
      await engine.ok(['rmi', target]);
    }
    // A certificate authority and a certificate for `localhost`, which the edge trusts.
    tlsDir = mkdtempSync(path.join(os.tmpdir(), 'meridian-ingress-tls-'));
    const openssl = async (args: string[]) => {
      const r = await runCommand('openssl', args, { cwd: tlsDir });
      assert.equal(r.code, 0, `openssl ${args.join(' ')}:\n${r.output}`);
    };
    await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=meridian test ingress CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
    await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'tls.key', '-out', 'tls.csr']);
    writeFileSync(path.join(tlsDir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    await openssl(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'tls.crt']);

    const [port, pingPort] = await freePorts(2);
    ingressPort = port;
    const manifest = readFileSync(path.join(REPO_ROOT, 'tests/cluster/platform-standins.yaml'), 'utf8')
      .replaceAll('__TRAEFIK_PORT__', String(port))
      .replaceAll('__TRAEFIK_PING_PORT__', String(pingPort));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-platform-'));
    try {
      writeFileSync(path.join(dir, 'platform.yaml'), manifest);
      await kubectlOk(['apply', '--server-side', '-f', path.join(dir, 'platform.yaml')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The one collector config and Jaeger config of the repo, the edge token, the TLS certificate.
    await kubectlOk(['-n', 'observability', 'create', 'configmap', 'otel-collector-config', `--from-file=config.yaml=${path.join(REPO_ROOT, 'observability/collector/config.yaml')}`, `--from-file=kubernetes.yaml=${path.join(REPO_ROOT, 'observability/collector/kubernetes.yaml')}`]);
    await kubectlOk(['-n', 'observability', 'create', 'configmap', 'jaeger-config', `--from-file=config.yaml=${path.join(REPO_ROOT, 'observability/jaeger/config.yaml')}`]);
    await kubectlOk(['-n', 'observability', 'create', 'secret', 'generic', 'meridian-edge-otlp-token', `--from-literal=token=${edgeToken}`]);
    await kubectlOk(['create', 'namespace', NS]);
    for (const ns of ['observability', NS]) {
      await kubectlOk(['-n', ns, 'create', 'secret', 'tls', TLS_SECRET, `--cert=${path.join(tlsDir, 'tls.crt')}`, `--key=${path.join(tlsDir, 'tls.key')}`]);
    }
    for (const [ns, name] of [['observability', 'otel-collector-gateway'], ['observability', 'jaeger'], ['traefik', 'traefik']]) {
      await kubectlOk(['-n', ns, 'rollout', 'status', `deployment/${name}`, '--timeout=180s'], 190_000);
    }
    // The Prometheus Operator with the CRDs and RBAC of its own module, and a Prometheus 3 it runs.
    const operator = path.join(path.dirname(toolsBinDir()), `prometheus-operator-${pinned('PROMETHEUS_OPERATOR_VERSION')}`);
    await kubectlOk(['apply', '--server-side', '-f', path.join(operator, 'crds')], 120_000);
    await kubectlOk(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s'], 70_000);
    await kubectlOk(['apply', '--server-side', '-f', path.join(operator, 'rbac')]);
    await kubectlOk(['-n', 'default', 'rollout', 'status', 'deployment/prometheus-operator', '--timeout=180s'], 190_000);
    await kubectlOk(['apply', '--server-side', '-f', path.join(REPO_ROOT, 'tests/cluster/prometheus.yaml')]);
    await poll('the operator\'s Prometheus pod', async () => ((await kubectl(['-n', 'default', 'get', 'pod', 'prometheus-meridian-0'])).code === 0 ? true : undefined), 120_000);
    await kubectlOk(['-n', 'default', 'wait', '--for=condition=Ready', 'pod/prometheus-meridian-0', '--timeout=180s'], 190_000);
    note(t, `platform stand-ins (collector, Jaeger, Traefik, the Prometheus Operator and its Prometheus) Ready in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  });

  test('the images build and are pushed to the cluster\'s registry; helm install turns every pod Ready; helm test passes', async (t) => {
    const secrets = npmBuildSecrets();
    const builtAt = Date.now();
    try {
      for (const { image, args } of IMAGES) {
        const b = await engine.docker(['build', '--network=host', ...secrets.args, ...args, '-t', `${image}:${TAG}`, '.'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
        assert.equal(b.code, 0, `docker build ${image}:\n${b.output.slice(-3000)}`);
      }
    } finally {
      secrets.cleanup();
    }
    // docker push to the registry on 127.0.0.1 (plain HTTP: Docker allows it for loopback).
    for (const { image } of IMAGES) {
      await engine.ok(['tag', `${image}:${TAG}`, `${registry}/${image}:${TAG}`]);
      await engine.ok(['push', `${registry}/${image}:${TAG}`], { timeoutMs: 300_000 });
    }
    const catalog = (await request(`http://${registry}/v2/_catalog`)).json as { repositories: string[] };
    for (const { image } of IMAGES) assert.ok(catalog.repositories.includes(image), `the registry holds ${image}: ${catalog.repositories.join(', ')}`);
    note(t, `images built and pushed to the cluster's registry in ${((Date.now() - builtAt) / 1000).toFixed(0)} s`);

    const installAt = Date.now();
    const install = await helm(['install', 'meridian', CHART, '-n', NS, ...VALUES, '--wait', '--timeout', '240s']);
    assert.equal(install.code, 0, `helm install:\n${install.output.slice(-3000)}\n${(await kubectl(['-n', NS, 'get', 'pods', '-o', 'wide'])).output}`);
    const pods = (await kubectlOk(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).split('\n');
    assert.equal(pods.length, 6, `six pods (service-a twice): ${pods.join(', ')}`);
    for (const p of pods) assert.match(p, / True$/, `not Ready: ${p}`);
    note(t, `helm install to all ${pods.length} pods Ready in ${((Date.now() - installAt) / 1000).toFixed(1)} s`);

    const test = await helm(['test', 'meridian', '-n', NS, '--timeout', '120s']);
    assert.equal(test.code, 0, `helm test:\n${test.output.slice(-3000)}`);
    assert.match(test.output, /Phase:\s+Succeeded/);
  });

  test('/call-service-b answers through the Service (kube-proxy, CoreDNS inside)', async () => {
    const res = await request(`${await serviceUrl('service-a', 8080)}/call-service-b`);
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json as { from: string }).from, 'service-b');
  });

  test('the edge, outside the cluster, reaches the ensemble and sends its OTLP over TLS with the token through the Ingress; one trace in the in-cluster Jaeger covers the edge, the ensemble and both models', async (t) => {
    const image = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png().toBuffer();
    const jaeger = await serviceUrl('jaeger', 16686, 'observability');
    const ingress = `https://localhost:${ingressPort}`;
    const edge = (token: string) =>
      new ServiceProcess({
        folder: 'preprocessing-edge',
        name: 'preprocessing-edge',
        env: {
          INFERENCE_URL: ingress,
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_LOGS_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
          OTEL_EXPORTER_OTLP_ENDPOINT: ingress,
          OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${token}`,
          NODE_EXTRA_CA_CERTS: path.join(tlsDir, 'ca.crt'),
          DEPLOYMENT_ENVIRONMENT: 'edge',
          EDGE_SITE_ID: 'edge-cluster-test',
        },
      });
    const send = async (proc: ServiceProcess, wanted: string[]) => {
      const res = await request(`${proc.url}/preprocessing`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: image }, 60_000);
      assert.equal(res.status, 200, `the edge's request through the Ingress: ${res.text}`);
      const traceId = (res.json as { traceId: string }).traceId;
      return poll(`trace ${traceId} with ${wanted.join(', ')} in the in-cluster Jaeger`, async () => {
        const r = await request(`${jaeger}/api/traces/${traceId}`);
        const trace = r.status === 200 ? (r.json as { data: JaegerTrace[] }).data[0] : undefined;
        const have = new Set(Object.values(trace?.processes ?? {}).map((p) => p.serviceName));
        return trace && wanted.every((x) => have.has(x)) ? trace : undefined;
      }, 90_000);
    };
    const traefikLog = async () => (await kubectlOk(['-n', 'traefik', 'logs', 'deployment/traefik', '--tail=-1'])).split('\n');
    const services = (trace: JaegerTrace) => new Set(Object.values(trace.processes).map((p) => p.serviceName));

    const good = await edge(edgeToken).start();
    try {
      const trace = await send(good, EDGE_TRACE_SERVICES);
      assert.deepEqual([...services(trace)].sort(), [...EDGE_TRACE_SERVICES].sort());
      const ensemble = trace.spans.find((x) => trace.processes[x.processID].serviceName === 'inference-ensemble');
      assert.equal(ensemble?.tags.find((x) => x.key === 'meridian.site')?.value, 'edge-cluster-test', 'the site id travelled as baggage');
      // Each cloud span says which pod made it: k8s.pod.name from the downward API (the service's
      // own resource), and what only the collector's k8s_attributes processor can add, read from
      // the API server: the pod's creation time, its ReplicaSet and its component label.
      const pods = new Map(
        ((JSON.parse(await kubectlOk(['-n', NS, 'get', 'pods', '-o', 'json'])) as { items: PodJson[] }).items).map((p) => [p.metadata.name, p]),
      );
      const tag = (p: JaegerTrace['processes'][string], key: string) => p.tags.find((x) => x.key === key)?.value;
      for (const p of Object.values(trace.processes).filter((x) => x.serviceName !== 'preprocessing-edge')) {
        const pod = pods.get(String(tag(p, 'k8s.pod.name')));
        assert.ok(pod, `${p.serviceName}: k8s.pod.name ${tag(p, 'k8s.pod.name')} is one of the release's pods (${[...pods.keys()].join(' ')})`);
        assert.equal(tag(p, 'k8s.pod.start_time'), pod.metadata.creationTimestamp, `${p.serviceName}: k8s_attributes added the pod's start time`);
        assert.equal(tag(p, 'k8s.replicaset.name'), pod.metadata.ownerReferences?.[0]?.name, `${p.serviceName}: k8s_attributes added the pod's ReplicaSet`);
        assert.equal(tag(p, 'k8s.pod.label.app.kubernetes.io/component'), pod.metadata.labels['app.kubernetes.io/component'], `${p.serviceName}: k8s_attributes added the component label`);
      }
      // The edge is no pod: its OTLP comes through the host-network Traefik, whose IP matches none.
      const edgeProcess = Object.values(trace.processes).find((x) => x.serviceName === 'preprocessing-edge');
      assert.equal(edgeProcess && tag(edgeProcess, 'k8s.pod.start_time'), undefined, 'the edge\'s spans carry no pod metadata');
      const log = await traefikLog();
      assert.ok(log.some((l) => /"POST \/ensemble HTTP\/[\d.]+" 200/.test(l)), 'Traefik passed the call to the ensemble');
      assert.ok(log.some((l) => /"POST \/v1\/traces HTTP\/[\d.]+" 200/.test(l)), 'Traefik passed the edge\'s OTLP');
      const a = Object.values(trace.processes).find((x) => x.serviceName === 'inference-ensemble')!;
      note(t, `edge trace through the Traefik Ingress: ${trace.spans.length} spans of ${services(trace).size} services in the in-cluster Jaeger`);
      note(t, `k8s_attributes on inference-ensemble: k8s.pod.start_time=${tag(a, 'k8s.pod.start_time')} k8s.replicaset.name=${tag(a, 'k8s.replicaset.name')} component=${tag(a, 'k8s.pod.label.app.kubernetes.io/component')}`);
    } finally {
      await good.stop();
    }

    const bad = await edge('not-the-token').start();
    try {
      // The cloud spans of its request arrive (the ensemble exports them itself)...
      const trace = await send(bad, EDGE_TRACE_SERVICES.slice(1));
      // ...and the edge's own export is refused with 401 by the collector behind the Ingress.
      const refused = await poll('a 401 for the wrong token in Traefik\'s access log', async () => {
        const n = (await traefikLog()).filter((l) => /"POST \/v1\/traces HTTP\/[\d.]+" 401/.test(l)).length;
        return n > 0 ? n : undefined;
      }, 60_000);
      const again = (await request(`${jaeger}/api/traces/${trace.traceID}`)).json as { data: JaegerTrace[] };
      assert.ok(!services(again.data[0]).has('preprocessing-edge'), 'no span of the wrong-token edge was stored');
      t.diagnostic(`the collector refused ${refused} OTLP posts with 401 through the Ingress`);
    } finally {
      await bad.stop();
    }
  });

  test('a pod that is killed is replaced', async (t) => {
    const selector = 'app.kubernetes.io/name=service-b';
    const [victim] = (await kubectlOk(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    const killedAt = Date.now();
    await kubectlOk(['-n', NS, 'delete', 'pod', victim, '--grace-period=0', '--force', '--wait=false']);
    await kubectlOk(['-n', NS, 'wait', '--for=delete', `pod/${victim}`, '--timeout=60s'], 70_000);
    await kubectlOk(['-n', NS, 'rollout', 'status', 'deployment/service-b', '--timeout=120s'], 130_000);
    const now = (await kubectlOk(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    assert.equal(now.length, 1);
    assert.notEqual(now[0], victim, 'a new pod took its place');
    const replacedS = (Date.now() - killedAt) / 1000;
    // And the callers recover: service-a's pooled connections to the killed pod are dead ends (a
    // forced kill sends no FIN), its calls on them time out and its breaker may open; /call-service-b
    // must answer again on every service-a pod, asked over new connections so that kube-proxy
    // spreads them over both.
    const url = `${await serviceUrl('service-a', 8080)}/call-service-b`;
    let streak = 0;
    const until = Date.now() + 90_000;
    while (streak < 20) {
      assert.ok(Date.now() < until, `service-a did not recover within 90 s of the kill (last streak ${streak})`);
      streak = (await freshGet(url)) === 200 ? streak + 1 : 0;
      if (streak === 0) await sleep(250);
    }
    note(t, `killed pod replaced and Ready in ${replacedS.toFixed(1)} s; /call-service-b answering again on every service-a pod ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  });

  test('helm upgrade with a changed value rolls out while a request loop sees no error', async (t) => {
    const url = `${await serviceUrl('service-a', 8080)}/call-service-b`;
    let stop = false;
    const outcomes: Record<string, number> = {};
    const loop = (async () => {
      while (!stop) {
        // Each request on a connection of its own: what the Service does with new requests while
        // pods come and go. (A reused keep-alive connection can meet the old pod's close in flight,
        // a client-side race that retrying clients absorb; one run saw one such reset in 880.)
        const status = await freshGet(url);
        const key = status === 0 ? 'connection failed' : String(status);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        await sleep(20);
      }
    })();
    const before = await kubectlOk(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=service-a', '-o', 'jsonpath={.items[*].metadata.name}']);
    const upgrade = await helm(['upgrade', 'meridian', CHART, '-n', NS, ...VALUES, '--set', 'serviceA.logLevel=debug', '--wait', '--timeout', '240s']);
    // The loop runs on until the old pods are gone: their drain and shutdown are part of the rollout.
    const gone = await kubectl(['-n', NS, 'wait', '--for=delete', ...before.split(' ').map((p) => `pod/${p}`), '--timeout=90s'], 100_000);
    await sleep(1_000);
    stop = true;
    await loop;
    assert.equal(upgrade.code, 0, `helm upgrade:\n${upgrade.output.slice(-3000)}`);
    const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
    assert.ok(total > 50, `the loop ran (${total} requests)`);
    if (Object.keys(outcomes).join() !== '200') {
      const logs = await kubectl(['-n', NS, 'logs', '-l', 'app.kubernetes.io/name=service-a', '--prefix', '--tail=40'], 30_000);
      const events = await kubectl(['-n', NS, 'get', 'events', '--sort-by=.lastTimestamp'], 30_000);
      assert.fail(`every request during the rollout answered 200: ${JSON.stringify(outcomes)}\n--- service-a logs ---\n${logs.output.slice(-6000)}\n--- events ---\n${events.output.slice(-3000)}`);
    }
    assert.equal(gone.code, 0, `the old service-a pods ended: ${gone.output}`);
    const afterPods = await kubectlOk(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=service-a', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.equal(afterPods.split(' ').length, 2);
    assert.ok(afterPods.split(' ').every((p) => !before.split(' ').includes(p)), `the service-a pods were replaced: ${before} -> ${afterPods}`);
    note(t, `helm upgrade: ${total} requests during the rollout, all 200`);
  });

  test('the chart\'s ServiceMonitors configure the scraping (every target of the release up) and its PrometheusRules load', async (t) => {
    const prom = await prometheusUrl();
    const pods = (await kubectlOk(['-n', NS, 'get', 'pods', '--field-selector=status.phase=Running', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.metadata.labels.app\\.kubernetes\\.io/name}{"\\n"}{end}'])).split('\n');
    type Target = { labels: Record<string, string>; health: string; lastError: string };
    const targets = await poll(`a target up for each of the ${pods.length} pods`, async () => {
      const active = ((await request(`${prom}/api/v1/targets?state=active`)).json as { data: { activeTargets: Target[] } }).data.activeTargets.filter((x) => x.labels.namespace === NS);
      return active.length === pods.length && active.every((x) => x.health === 'up') ? active : undefined;
    }, 120_000);
    for (const p of pods) {
      const [pod, name] = p.split('=');
      const target = targets.find((x) => x.labels.pod === pod);
      assert.equal(target?.labels.job, name, `${pod}: scraped as job ${name}, as in the local stack`);
    }
    // One rule group per group of observability/prometheus/rules, each rule healthy.
    const wanted = readdirSync(path.join(REPO_ROOT, 'observability/prometheus/rules'))
      .filter((f) => f.endsWith('.yml'))
      .flatMap((f) => (parseYaml(readFileSync(path.join(REPO_ROOT, 'observability/prometheus/rules', f), 'utf8')) as { groups: { name: string; rules: unknown[] }[] }).groups);
    type Group = { name: string; rules: { name: string; health: string; lastError?: string }[] };
    const groups = await poll('every rule group loaded', async () => {
      const loaded = ((await request(`${prom}/api/v1/rules`)).json as { data: { groups: Group[] } }).data.groups;
      return wanted.every((w) => loaded.some((g) => g.name === w.name && g.rules.length === w.rules.length)) ? loaded : undefined;
    }, 120_000);
    const unhealthy = groups.flatMap((g) => g.rules.filter((r) => r.health === 'err').map((r) => `${g.name}/${r.name}: ${r.lastError}`));
    assert.deepEqual(unhealthy, [], 'no rule fails to evaluate');
    note(t, `Prometheus (operator ${pinned('PROMETHEUS_OPERATOR_VERSION')}): ${targets.length} targets up, ${wanted.length} rule groups loaded`);
  });

  test('/crash three times restarts the container and fires ServiceRestarting in the operator\'s Prometheus', async (t) => {
    const [pod] = (await kubectlOk(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=service-a', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    const startedAt = Date.now();
    const starts = new Set<string>();
    const scrapedStart = async () => (await promQuery(`process_start_time_seconds{namespace="${NS}",pod="${pod}"}`))[0]?.value[1];
    starts.add(await poll('service-a\'s process_start_time_seconds scraped', scrapedStart, 60_000));
    for (let i = 1; i <= 3; i++) {
      const ip = await kubectlOk(['-n', NS, 'get', 'pod', pod, '-o', 'jsonpath={.status.podIP}']);
      const res = await request(`http://${ip}:8080/crash`);
      assert.equal(res.status, 202, res.text);
      // Restarted by the kubelet (after its crash-loop back-off), Ready again, and scraped anew.
      await poll(`restart ${i} of ${pod}`, async () => {
        const status = await kubectlOk(['-n', NS, 'get', 'pod', pod, '-o', 'jsonpath={.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].ready}']);
        return status === `${i} true` ? true : undefined;
      }, 180_000, 1_000);
      await poll(`a new process_start_time_seconds after restart ${i}`, async () => {
        const v = await scrapedStart();
        return v && !starts.has(v) ? starts.add(v) : undefined;
      }, 60_000, 1_000);
    }
    const prom = await prometheusUrl();
    type Alert = { labels: Record<string, string>; state: string; annotations: Record<string, string> };
    const alert = await poll('ServiceRestarting firing for the crashed pod', async () => {
      const alerts = ((await request(`${prom}/api/v1/alerts`)).json as { data: { alerts: Alert[] } }).data.alerts;
      return alerts.find((a) => a.labels.alertname === 'ServiceRestarting' && a.labels.pod === pod && a.state === 'firing');
    }, 120_000, 1_000);
    assert.equal(alert.labels.job, 'service-a');
    assert.match(alert.annotations.runbook_url, /ServiceRestarting\.md$/);
    note(t, `/crash ×3: ServiceRestarting firing ${((Date.now() - startedAt) / 1000).toFixed(0)} s after the first crash`);
  });

  test('helm uninstall leaves nothing of the release', async () => {
    const r = await helm(['uninstall', 'meridian', '-n', NS, '--wait', '--timeout', '120s']);
    assert.equal(r.code, 0, r.output);
    // Pods end after their drain and shutdown (terminationGracePeriodSeconds), after helm returns.
    await kubectlOk(['-n', NS, 'wait', '--for=delete', 'pods', '-l', 'app.kubernetes.io/instance=meridian', '--timeout=120s'], 130_000);
    const left = await kubectlOk(['-n', NS, 'get', 'all,configmaps,secrets,poddisruptionbudgets,serviceaccounts', '-l', 'app.kubernetes.io/instance=meridian', '-o', 'name']);
    assert.equal(left, '', `left after uninstall:\n${left}`);
    await kubectlOk(['delete', 'namespace', NS, '--timeout=120s'], 130_000);
  });

  test('skaffold run -p local,push builds the images, pushes them to the registry and deploys the chart; skaffold delete removes it', async (t) => {
    const startedAt = Date.now();
    const run = await skaffold(['run', '-p', 'local,push,npm-secrets', ...skaffoldTarget()], REPO_ROOT, 900_000);
    assert.equal(run.code, 0, `skaffold run:\n${run.output.slice(-4000)}\n${(await kubectl(['-n', SKAFFOLD_NS, 'get', 'pods', '-o', 'wide'])).output}`);
    note(t, `skaffold run (build, push, deploy, every deployment stable) in ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    // The images the release runs are the ones skaffold pushed to the cluster's registry.
    const images = (await kubectlOk(['-n', SKAFFOLD_NS, 'get', 'pods', '-o', 'jsonpath={.items[*].spec.containers[*].image}'])).split(' ');
    assert.equal(images.length, 5, `five pods (service-a, service-b, the three inference roles): ${images.join(' ')}`);
    for (const image of images) assert.match(image, new RegExp(`^${registry.replace(/\./g, '\\.')}/meridian/(service-a|service-b|inference):[0-9a-f]{64}$`), 'tagged from the sources\' digest');
    const catalog = (await request(`http://${registry}/v2/_catalog`)).json as { repositories: string[] };
    assert.ok(catalog.repositories.includes('meridian/preprocessing-edge'), `the edge image is pushed too (for devices): ${catalog.repositories.join(', ')}`);
    const res = await request(`${await serviceUrl('service-a', 8080, SKAFFOLD_NS)}/call-service-b`);
    assert.equal(res.status, 200, res.text);

    const del = await skaffold(['delete', '-p', 'local', '--kube-context', 'meridian'], REPO_ROOT, 180_000);
    assert.equal(del.code, 0, del.output);
    await kubectlOk(['-n', SKAFFOLD_NS, 'wait', '--for=delete', 'pods', '--all', '--timeout=120s'], 130_000);
    assert.equal(await kubectlOk(['-n', SKAFFOLD_NS, 'get', 'all', '-o', 'name']), '', 'skaffold delete left nothing');
  });

  test('a bounded skaffold dev picks up a code change, rebuilds, redeploys, and the new version answers', async (t) => {
    // Nothing deployed before (the answer below must come from what skaffold dev deploys).
    assert.equal(await kubectlOk(['-n', SKAFFOLD_NS, 'get', 'deployments', '-o', 'name']), '', 'no earlier release in the way');
    // In a copy of the working tree: the test edits a source file.
    const copy = mkdtempSync(path.join(os.tmpdir(), 'meridian-skaffold-dev-'));
    let dev: ToolProcess | undefined;
    try {
      const files = (await runCommand('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT })).stdout.split('\0').filter(Boolean);
      for (const f of files) {
        try {
          mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
          copyFileSync(path.join(REPO_ROOT, f), path.join(copy, f));
        } catch {
          // deleted in the working tree, not yet in git
        }
      }
      const startedAt = Date.now();
      dev = await startProcess('skaffold dev', toolPath('skaffold'), ['dev', '-p', 'local,push,npm-secrets', ...skaffoldTarget(), '--port-forward=off', '--cleanup=true'], {
        cwd: copy,
        env: skaffoldEnv(),
      });
      // skaffold watches the files only after its first deploy has settled, and an edit made before
      // that is not seen: the edit waits for its "Watching for changes..." line.
      let watching = false;
      let tail = '';
      const watchFor = (s: string) => {
        tail = (tail + s).slice(-200);
        if (tail.includes('Watching for changes')) watching = true;
      };
      dev.child.stdout?.on('data', watchFor);
      dev.child.stderr?.on('data', watchFor);
      // Asked on new connections: pods come and go under a pooled one.
      let last = '';
      const dataName = async () => {
        try {
          const r = await freshRequest(`${await serviceUrl('service-b', 8081, SKAFFOLD_NS)}/data`);
          last = `${r.status} ${r.body.slice(0, 200)}`;
          return r.status === 200 ? (JSON.parse(r.body) as { items: { name: string }[] }).items[0].name : '';
        } catch (err) {
          last = String(err);
          return '';
        }
      };
      const waitFor = async (what: string, want: string, ms: number) => {
        const until = Date.now() + ms;
        while ((await dataName()) !== want) {
          assert.ok(dev!.child.exitCode === null, `skaffold dev exited:\n${dev!.output()}`);
          assert.ok(Date.now() < until, `${what} within ${ms / 1000} s (service-b last answered: ${last}):\n${dev!.output()}`);
          await sleep(1_000);
        }
      };
      await waitFor('skaffold dev deployed service-b', 'alpha', 600_000);
      const firstS = (Date.now() - startedAt) / 1000;
      await poll('skaffold dev watching for changes', async () => watching || undefined, 120_000);
      const changed = `alpha-${process.pid}`;
      const source = path.join(copy, 'services/service-b/src/data.controller.ts');
      writeFileSync(source, readFileSync(source, 'utf8').replace("name: 'alpha'", `name: '${changed}'`));
      const changedAt = Date.now();
      await waitFor('the changed service-b answers', changed, 600_000);
      note(t, `skaffold dev: first deploy in ${firstS.toFixed(0)} s; a code change answering ${((Date.now() - changedAt) / 1000).toFixed(0)} s after the edit`);
      // Ctrl-C: skaffold dev removes what it deployed.
      const exited = once(dev.child, 'exit');
      dev.child.kill('SIGINT');
      // A timer that is cleared: one left pending would keep the test process alive after the last test.
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([exited.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), 180_000)))]);
      clearTimeout(timer);
      assert.ok(ended, `skaffold dev did not end within 180 s of Ctrl-C:\n${dev.output()}`);
      await kubectlOk(['-n', SKAFFOLD_NS, 'wait', '--for=delete', 'pods', '--all', '--timeout=120s'], 130_000);
      assert.equal(await kubectlOk(['-n', SKAFFOLD_NS, 'get', 'all', '-o', 'name']), '', 'skaffold dev cleaned up after Ctrl-C');
    } finally {
      if (dev) await dev.stop('SIGKILL');
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('cluster.sh down leaves nothing of the cluster', async () => {
    const dir = path.dirname(kubeconfig);
    const down = await runCommand('bash', [CLUSTER, 'down'], { timeoutMs: 180_000 });
    assert.equal(down.code, 0, down.output);
    kubeconfig = '';
    const processes = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        } catch {
          return ''; // ended meanwhile
        }
      })
      .filter((cmd) => cmd.includes(dir));
    assert.deepEqual(processes, [], 'no process of the cluster runs');
    const chains = await runCommand('bash', ['-c', "iptables-save | grep -E '^:(KUBE|CNI)-' || true"]);
    assert.equal(chains.stdout.trim(), '', 'no iptables chain of the cluster is left');
    const links = await runCommand('bash', ['-c', 'ip -br link show meridian0 2>/dev/null; ip -br addr show dev lo | grep -o "172.31.255.1/32" || true']);
    assert.equal(links.stdout.trim(), '', 'neither the pod bridge nor the node address is left');
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
    assert.deepEqual(mounts, [], 'no mount under the cluster folder');
  });
});
