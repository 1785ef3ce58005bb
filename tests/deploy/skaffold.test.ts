// skaffold.yaml, without a cluster: its structure (skaffold/v4beta13), the four artifacts and their
// Dockerfiles, the chart it deploys, and the profiles, each also as the pinned skaffold itself
// reads it (`skaffold diagnose --yaml-only`). tests/cluster runs it against a real cluster. The chart side is real:
// the pinned helm renders deploy/helm/meridian with exactly the values skaffold would pass for each
// profile (templates filled in as skaffold fills them), so a value the chart's schema refuses, an
// image the chart uses that no artifact builds, or a port forward to a Service the chart does not
// define fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'skaffold.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`skaffold.yaml not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');

/** A real tool from scripts/tools/install.sh's bin dir; missing means the test fails, never skips. */
function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it builds the pinned tools into ${binDir})`);
  }
  return path;
}

interface Artifact {
  image: string;
  context?: string;
  docker?: { dockerfile?: string; buildArgs?: Record<string, string> };
}
interface HelmRelease {
  name: string;
  chartPath?: string;
  namespace?: string;
  valuesFiles?: string[];
  setValues?: Record<string, string>;
  setValueTemplates?: Record<string, string>;
}
interface Section {
  build?: { artifacts?: Artifact[]; local?: { push?: boolean; useBuildkit?: boolean }; tagPolicy?: unknown };
  deploy?: { helm?: { releases: HelmRelease[] } };
  portForward?: { resourceType: string; resourceName: string; namespace?: string; port: number | string; localPort?: number }[];
}
interface Profile extends Section {
  name: string;
  patches?: { op: string; path: string; value?: unknown }[];
  activation?: { kubeContext?: string; env?: string; command?: string }[];
}
interface SkaffoldConfig extends Section {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string };
  profiles?: Profile[];
}

const config = parse(readFileSync(join(repoRoot, 'skaffold.yaml'), 'utf8')) as SkaffoldConfig;

/** The images this project builds: the chart's three and the edge's. */
const IMAGES = ['meridian/service-a', 'meridian/service-b', 'meridian/preprocessing-edge', 'meridian/inference'];

/** skaffold's name for an artifact inside templates: `/`, `-` and `.` become `_`. */
const templateName = (image: string): string => image.replace(/[/.-]/g, '_');

/** JSON Pointer patches as skaffold applies them to the base config (replace/add/remove). */
function applyPatches(base: SkaffoldConfig, patches: Profile['patches'] = []): SkaffoldConfig {
  const doc = structuredClone(base) as unknown as Record<string, unknown>;
  for (const p of patches) {
    const keys = p.path.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop()!;
    let node = doc as Record<string, unknown>;
    for (const k of keys) {
      assert.ok(node[k] !== undefined && typeof node[k] === 'object', `patch ${p.op} ${p.path}: ${k} does not exist`);
      node = node[k] as Record<string, unknown>;
    }
    if (p.op === 'replace') {
      assert.ok(last in node, `patch replace ${p.path}: nothing to replace`);
      node[last] = p.value;
    } else if (p.op === 'add') node[last] = p.value;
    else if (p.op === 'remove') delete node[last];
    else assert.fail(`patch op ${p.op} is not handled by this test`);
  }
  return doc as unknown as SkaffoldConfig;
}

/** The effective config of a profile: patches first, then the profile's own sections replace the base's. */
function effective(profile?: string): SkaffoldConfig {
  if (!profile) return config;
  const p = config.profiles?.find((x) => x.name === profile);
  assert.ok(p, `no profile ${profile}`);
  const patched = applyPatches(config, p.patches);
  return {
    ...patched,
    build: p.build ?? patched.build,
    deploy: p.deploy ?? patched.deploy,
    portForward: p.portForward ?? patched.portForward,
  };
}

/**
 * skaffold's templates, for what skaffold.yaml uses: {{.VAR}} and {{default "x" .VAR}}. Anything
 * else fails, so a template this test cannot evaluate is noticed.
 */
function fillTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{\{\s*(.*?)\s*\}\}/g, (_m, expr: string) => {
    let m = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    if (m) {
      assert.ok(m[1] in vars, `template variable ${m[1]} is not one skaffold provides here (${template})`);
      return vars[m[1]];
    }
    m = /^default\s+"([^"]*)"\s+\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr);
    if (m) return vars[m[2]] || m[1];
    assert.fail(`template {{${expr}}} is not handled by this test`);
  });
}

/** What skaffold gives templates after a build: IMAGE_REPO_/IMAGE_TAG_/IMAGE_DIGEST_<artifact>. */
function imageVars(artifacts: Artifact[], registry = ''): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const a of artifacts) {
    const n = templateName(a.image);
    vars[`IMAGE_REPO_${n}`] = registry ? `${registry}/${a.image}` : a.image;
    vars[`IMAGE_TAG_${n}`] = 'abc123';
    vars[`IMAGE_DIGEST_${n}`] = `sha256:${'0'.repeat(64)}`;
  }
  return vars;
}

// helm keeps its own cache/config/data dirs; a temp home keeps the user's untouched.
const helmHome = mkdtempSync(join(tmpdir(), 'meridian-skaffold-helm-'));
process.on('exit', () => rmSync(helmHome, { recursive: true, force: true }));

interface K8sObject {
  kind: string;
  metadata: { name: string };
  spec?: {
    ports?: { port: number }[];
    template?: { spec: { containers: { image: string }[] } };
  };
}

/** `helm template` of one release exactly as skaffold would install it (--set for setValues and the filled templates). */
function renderRelease(release: HelmRelease, vars: Record<string, string>): K8sObject[] {
  const args = ['template', release.name, join(repoRoot, release.chartPath!), '--namespace', release.namespace ?? 'default'];
  for (const f of release.valuesFiles ?? []) args.push('--values', join(repoRoot, f));
  for (const [k, v] of Object.entries(release.setValues ?? {})) args.push('--set', `${k}=${v}`);
  for (const [k, v] of Object.entries(release.setValueTemplates ?? {})) args.push('--set', `${k}=${fillTemplate(v, vars)}`);
  const r = spawnSync(tool('helm'), args, {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `helm template ${args.slice(1).join(' ')} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

/** Every `repository:` value anywhere in a values file. */
function repositories(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => repositories(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'repository' && typeof v === 'string') out.push(v);
      else repositories(v, out);
    }
  }
  return out;
}

const chartValues = join(repoRoot, 'deploy/helm/meridian/values.yaml');

// ------------------------------------------------------------------------------------------ tests

test('skaffold.yaml is a skaffold/v4beta13 Config with one artifact per image', () => {
  assert.equal(config.apiVersion, 'skaffold/v4beta13');
  assert.equal(config.kind, 'Config');
  const artifacts = config.build?.artifacts ?? [];
  assert.deepEqual(artifacts.map((a) => a.image).sort(), [...IMAGES].sort(), 'one artifact per image, the inference image serving all three roles');
  for (const a of artifacts) {
    const context = join(repoRoot, a.context ?? '.');
    assert.ok(existsSync(join(context, 'package-lock.json')), `${a.image}: the context is the repository root (the npm workspace)`);
    const dockerfile = a.docker?.dockerfile;
    assert.ok(dockerfile, `${a.image}: docker.dockerfile`);
    assert.ok(existsSync(join(context, dockerfile)) && statSync(join(context, dockerfile)).isFile(), `${a.image}: ${dockerfile} does not exist`);
    // The Node services share services/Dockerfile, named by SERVICE; inference has its own.
    const name = a.image.split('/')[1];
    if (dockerfile === 'services/Dockerfile') assert.equal(a.docker?.buildArgs?.SERVICE, name, `${a.image}: buildArgs.SERVICE`);
    else assert.equal(dockerfile, `services/${name}/Dockerfile`, `${a.image}: built from services/Dockerfile or its own service's Dockerfile`);
    // Build arguments must be ARGs of that Dockerfile.
    const text = readFileSync(join(context, dockerfile), 'utf8');
    for (const arg of Object.keys(a.docker?.buildArgs ?? {})) assert.match(text, new RegExp(`^ARG ${arg}(=|$)`, 'm'), `${a.image}: build arg ${arg} is not an ARG of ${dockerfile}`);
  }
  assert.equal(config.build?.local?.push, false, 'the default build pushes nothing');
});

test('the helm releases of every profile deploy the chart that exists, with values files that exist', () => {
  for (const profile of [undefined, ...(config.profiles ?? []).map((p) => p.name)]) {
    const eff = effective(profile);
    const releases = eff.deploy?.helm?.releases ?? [];
    assert.equal(releases.length, 1, `${profile ?? 'default'}: one helm release`);
    const r = releases[0];
    assert.ok(r.chartPath, `${profile ?? 'default'}: chartPath`);
    assert.ok(existsSync(join(repoRoot, r.chartPath, 'Chart.yaml')), `${profile ?? 'default'}: ${r.chartPath}/Chart.yaml does not exist`);
    for (const f of r.valuesFiles ?? []) assert.ok(existsSync(join(repoRoot, f)), `${profile ?? 'default'}: values file ${f} does not exist`);
    // Each image value the chart takes is set from the artifact of that image.
    const t = r.setValueTemplates ?? {};
    for (const [key, value] of Object.entries(t)) {
      const m = /\{\{\s*\.IMAGE_(?:REPO|TAG|DIGEST)_([A-Za-z0-9_]+)\s*\}\}/.exec(value);
      if (!m) continue;
      assert.ok(
        (eff.build?.artifacts ?? []).some((a) => templateName(a.image) === m[1]),
        `${profile ?? 'default'}: ${key} uses artifact ${m[1]}, which is not built`,
      );
    }
  }
});

test('the pinned skaffold reads every profile; push pushes, and npm-secrets gives each build its npm secrets and the host network', () => {
  const skaffold = tool('skaffold');
  for (const profile of ['', ...(config.profiles ?? []).map((p) => p.name)]) {
    const r = spawnSync(skaffold, ['diagnose', '--yaml-only', '--filename', join(repoRoot, 'skaffold.yaml'), ...(profile ? ['-p', profile] : [])], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SKAFFOLD_UPDATE_CHECK: 'false', HOME: tmpdir() },
    });
    assert.equal(r.status, 0, `skaffold diagnose ${profile || '(default)'}:\n${r.stdout}${r.stderr}`);
    const effectiveConfig = parse(r.stdout) as SkaffoldConfig & { build: { artifacts: (Artifact & { docker: { network?: string; secrets?: { id: string; src: string }[] } })[] } };
    assert.equal(effectiveConfig.apiVersion, config.apiVersion, 'skaffold kept the schema version (no upgrade needed)');
    if (profile === 'push') assert.equal((effectiveConfig.build as { local?: { push?: boolean } }).local?.push, true, 'push: the images are pushed');
    if (profile === 'npm-secrets') {
      for (const a of effectiveConfig.build.artifacts) {
        assert.equal(a.docker.network, 'host', `${a.image}: network`);
        assert.deepEqual(a.docker.secrets?.map((x) => x.id), ['npmrc', 'npmca'], `${a.image}: the secrets the Dockerfiles mount`);
      }
    }
  }
});

test('profiles: local (no push, a local ingress class) and eks (push, values-eks.yaml, images pinned by digest)', () => {
  const names = (config.profiles ?? []).map((p) => p.name);
  assert.ok(names.includes('local') && names.includes('eks'), `profiles local and eks (have ${names.join(', ')})`);

  const local = effective('local');
  assert.equal(local.build?.local?.push, false, 'local: nothing is pushed');
  const lr = local.deploy!.helm!.releases[0];
  const ingressClass = fillTemplate(lr.setValueTemplates?.['ingress.className'] ?? lr.setValues?.['ingress.className'] ?? '', {});
  assert.ok(['nginx', 'traefik'].includes(ingressClass), `local: ingress class nginx or traefik, got "${ingressClass}"`);
  assert.equal(fillTemplate(lr.setValueTemplates?.['ingress.className'] ?? '', { MERIDIAN_INGRESS_CLASS: 'traefik' }), 'traefik');
  const contexts = (config.profiles!.find((p) => p.name === 'local')!.activation ?? []).map((a) => a.kubeContext);
  for (const ctx of ['kind-meridian', 'k3d-meridian', 'minikube', 'docker-desktop']) {
    assert.ok(contexts.some((c) => c && new RegExp(`^(?:${c})$`).test(ctx)), `local activates on kube context ${ctx}`);
  }

  const eks = effective('eks');
  assert.equal(eks.build?.local?.push, true, 'eks: images are pushed (to ECR, the default repo)');
  const er = eks.deploy!.helm!.releases[0];
  assert.ok(er.valuesFiles?.includes('deploy/helm/meridian/values-eks.yaml'), 'eks: values-eks.yaml');
  for (const key of ['serviceA', 'serviceB', 'inference']) {
    assert.match(er.setValueTemplates?.[`${key}.image.digest`] ?? '', /\{\{\.IMAGE_DIGEST_meridian_/, `eks: ${key}.image.digest from the pushed image`);
  }
});

test('every image the chart uses is built by an artifact, and skaffold sets each one', () => {
  assert.ok(existsSync(chartValues), `${chartValues} does not exist: skaffold deploys this chart`);
  const repos = repositories(parse(readFileSync(chartValues, 'utf8')));
  assert.ok(repos.length >= 3, `values.yaml has ${repos.length} image repositories`);
  const built = new Set((config.build?.artifacts ?? []).map((a) => a.image));
  for (const repo of repos) assert.ok(built.has(repo), `the chart uses image ${repo}, which no artifact builds`);

  // The keys skaffold sets exist in values.yaml (a typo would be a silently ignored value).
  const values = parse(readFileSync(chartValues, 'utf8')) as Record<string, unknown>;
  for (const profile of [undefined, 'local', 'eks']) {
    const r = effective(profile).deploy!.helm!.releases[0];
    for (const key of [...Object.keys(r.setValueTemplates ?? {}), ...Object.keys(r.setValues ?? {})]) {
      let node: unknown = values;
      for (const k of key.split('.')) {
        assert.ok(node && typeof node === 'object' && k in node, `${profile ?? 'default'}: ${key} is not a key of values.yaml`);
        node = (node as Record<string, unknown>)[k];
      }
    }
  }
});

test('helm renders the chart with the values skaffold passes, in every profile, running the built images', () => {
  for (const profile of [undefined, 'local', 'eks']) {
    const eff = effective(profile);
    const registry = profile === 'eks' ? '123456789012.dkr.ecr.eu-west-1.amazonaws.com' : '';
    const vars = imageVars(eff.build?.artifacts ?? [], registry);
    const objects = renderRelease(eff.deploy!.helm!.releases[0], vars);
    const images = new Set(
      objects
        .filter((o) => o.kind === 'Deployment')
        .flatMap((o) => o.spec!.template!.spec.containers.map((c) => c.image)),
    );
    assert.ok(images.size > 0, `${profile ?? 'default'}: no Deployment rendered`);
    const expected = (image: string) => {
      const n = templateName(image);
      return profile === 'eks' ? `${vars[`IMAGE_REPO_${n}`]}@${vars[`IMAGE_DIGEST_${n}`]}` : `${vars[`IMAGE_REPO_${n}`]}:${vars[`IMAGE_TAG_${n}`]}`;
    };
    const allowed = new Set((eff.build?.artifacts ?? []).map((a) => expected(a.image)));
    for (const image of images) assert.ok(allowed.has(image), `${profile ?? 'default'}: a Deployment runs ${image}, not an image skaffold built`);
    if (profile === 'local') {
      const ingress = objects.find((o) => o.kind === 'Ingress') as unknown as { spec: { ingressClassName?: string } } | undefined;
      assert.equal(ingress?.spec.ingressClassName, 'nginx', 'local: an Ingress with the local controller class');
    }
  }
});

test('port forwards: service-a, Jaeger 16686, Prometheus 9090, Grafana 3000, each to a Service that exists', () => {
  const forwards = config.portForward ?? [];
  const byLocal = new Map(forwards.map((f) => [f.localPort ?? Number(f.port), f]));
  for (const port of [8080, 16686, 9090, 3000]) assert.ok(byLocal.has(port), `no port forward to local port ${port}`);
  for (const f of forwards) assert.equal(f.resourceType, 'service', `${f.resourceName}: forward to a Service (stable across pod restarts)`);

  // The chart's Services (rendered): forwards into the release namespace must name one, with that port.
  const release = config.deploy!.helm!.releases[0];
  const services = renderRelease(release, imageVars(config.build?.artifacts ?? [])).filter((o) => o.kind === 'Service');
  const platformReleases = [...readFileSync(join(repoRoot, 'deploy/helm/platform/install.sh'), 'utf8').matchAll(/^release\s+(\S+)\s/gm)].map((m) => m[1]);
  assert.ok(platformReleases.length > 0, 'deploy/helm/platform/install.sh installs no release');
  for (const f of forwards) {
    if (f.namespace === release.namespace) {
      const svc = services.find((s) => s.metadata.name === f.resourceName);
      assert.ok(svc, `port forward to ${f.resourceName}: the chart defines no such Service (${services.map((s) => s.metadata.name).join(', ')})`);
      assert.ok(svc.spec?.ports?.some((p) => p.port === Number(f.port)), `${f.resourceName} has no port ${f.port}`);
    } else {
      // The UIs live in the platform (deploy/helm/platform/install.sh): their Services carry the release name.
      assert.equal(f.namespace, 'observability', `${f.resourceName}: the platform's namespace`);
      assert.ok(platformReleases.some((r) => f.resourceName === r || f.resourceName.startsWith(`${r}-`)), `${f.resourceName} belongs to no platform release (${platformReleases.join(', ')})`);
    }
  }
  assert.equal(byLocal.get(8080)?.resourceName, 'service-a');
});
