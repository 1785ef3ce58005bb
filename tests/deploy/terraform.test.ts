// deploy/terraform, checked without an AWS account or the Terraform registry (neither is reachable
// where the tests run, so `terraform init/validate` cannot run): HashiCorp's own HCL parser and
// formatter (hclfmt: the hclwrite rules `terraform fmt` applies) on every file, then the structure,
// read with python-hcl2 (a checkov dependency, from checkov's virtualenv): variables typed, described,
// validated and all used; modules and providers pinned as versions.tf says; the promised outputs;
// ECR as the release workflow expects; the Helm releases in step with deploy/helm/platform.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'terraform', 'versions.tf'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`deploy/terraform/versions.tf not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const tfDir = join(repoRoot, 'deploy', 'terraform');
const platformDir = join(repoRoot, 'deploy', 'helm', 'platform');
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');

/** A real tool from scripts/tools/install.sh's bin dir; missing means the test fails, never skips. */
function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it installs the pinned tools into ${binDir})`);
  }
  return path;
}

/** The python of checkov's virtualenv, which carries the hcl2 module. */
function checkovPython(): string {
  const python = join(dirname(realpathSync(tool('checkov'))), 'python');
  if (!existsSync(python)) assert.fail(`no python beside ${realpathSync(tool('checkov'))}: run scripts/tools/install.sh checkov`);
  return python;
}

function run(bin: string, args: string[], timeout = 60_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bin, args, { cwd: tfDir, encoding: 'utf8', timeout, maxBuffer: 32 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tfFiles = readdirSync(tfDir)
  .filter((f) => f.endsWith('.tf'))
  .sort();

// ------------------------------------------------------------------------------ the parsed model

// python-hcl2 returns every attribute value wrapped in a one-element list, blocks as lists of
// {label: body}, and expressions as "${...}" strings.
type Body = Record<string, unknown>;
interface Model {
  variables: Map<string, Body>;
  modules: Map<string, Body>;
  outputs: Map<string, Body>;
  locals: Body;
  resources: { type: string; name: string; body: Body; file: string }[];
  terraform: Body[];
}

const one = (v: unknown): unknown => (Array.isArray(v) && v.length === 1 ? v[0] : v);
const str = (v: unknown): string => {
  const x = one(v);
  return typeof x === 'string' ? x : JSON.stringify(x);
};

const PARSE = `
import hcl2, json, sys
out = {}
for path in sys.argv[1:]:
    with open(path) as f:
        out[path] = hcl2.load(f)
print(json.dumps(out))
`;

let cached: Model | undefined;
function model(): Model {
  if (cached) return cached;
  const r = run(checkovPython(), ['-c', PARSE, ...tfFiles]);
  assert.equal(r.status, 0, `python-hcl2 could not parse deploy/terraform:\n${r.stderr}`);
  const parsed = JSON.parse(r.stdout) as Record<string, Record<string, unknown[]>>;
  const m: Model = { variables: new Map(), modules: new Map(), outputs: new Map(), locals: {}, resources: [], terraform: [] };
  for (const [file, doc] of Object.entries(parsed)) {
    const labelled = (key: string, into: Map<string, Body>): void => {
      for (const block of (doc[key] ?? []) as Record<string, Body>[]) {
        for (const [name, body] of Object.entries(block)) {
          assert.ok(!into.has(name), `${key} "${name}" is declared twice (again in ${file})`);
          into.set(name, body);
        }
      }
    };
    labelled('variable', m.variables);
    labelled('module', m.modules);
    labelled('output', m.outputs);
    for (const block of (doc.locals ?? []) as Body[]) Object.assign(m.locals, block);
    for (const block of (doc.resource ?? []) as Record<string, Record<string, Body>>[]) {
      for (const [type, byName] of Object.entries(block)) {
        for (const [name, body] of Object.entries(byName)) m.resources.push({ type, name, body, file });
      }
    }
    m.terraform.push(...((doc.terraform ?? []) as Body[]));
  }
  cached = m;
  return m;
}

function resource(type: string, name: string): Body {
  const found = model().resources.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no resource ${type}.${name} in deploy/terraform`);
  return found.body;
}

/** All .tf text with comments removed (so a commented-out reference does not count as a use). */
function codeText(): string {
  return tfFiles
    .map((f) =>
      readFileSync(join(tfDir, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .split('\n')
        .map((line) => line.replace(/^\s*(#|\/\/).*$/, ''))
        .join('\n'),
    )
    .join('\n');
}

// ------------------------------------------------------------------------------------ the tests

test('every .tf file parses with the HCL parser and is formatted as terraform fmt would', () => {
  assert.ok(tfFiles.length >= 5, `expected the Terraform files in ${tfDir}, found ${tfFiles.join(', ')}`);
  const hclfmt = tool('hclfmt');
  const unformatted: string[] = [];
  for (const file of [...tfFiles, 'terraform.tfvars.example']) {
    const check = run(hclfmt, ['-check', file]);
    assert.equal(check.status, 0, `${file} does not parse as HCL:\n${check.stderr}`);
    const fmt = run(hclfmt, ['-require-no-change', file]);
    if (fmt.status !== 0) {
      const want = fmt.stdout.split('\n');
      const have = readFileSync(join(tfDir, file), 'utf8').split('\n');
      const at = have.findIndex((line, i) => line !== want[i]);
      unformatted.push(`${file}:${at + 1}: have ${JSON.stringify(have[at])}, want ${JSON.stringify(want[at])}`);
    }
  }
  assert.deepEqual(unformatted, [], `not formatted (run terraform fmt in deploy/terraform):\n${unformatted.join('\n')}`);
});

test('every variable has a type and a description, and the inputs that can be wrong are validated', () => {
  const { variables } = model();
  for (const [name, body] of variables) {
    assert.ok(body.type, `variable "${name}" has no type`);
    assert.ok(str(body.description).trim().length > 10, `variable "${name}" has no description`);
    for (const v of (body.validation ?? []) as Body[]) {
      assert.match(str(v.condition), new RegExp(`var\\.${name}\\b`), `a validation of "${name}" does not test var.${name}`);
      assert.ok(str(v.error_message).length > 10, `a validation of "${name}" has no error_message`);
    }
  }
  // region format, cluster name pattern, instance types non-empty, min <= desired <= max, CIDRs.
  const mustValidate: Record<string, RegExp> = {
    region: /regex\(/,
    cluster_name: /regex\(/,
    node_instance_types: /length\(var\.node_instance_types\)\s*>\s*0/,
    node_group_size: /min\s*<=\s*var\.node_group_size\.desired[\s\S]*desired\s*<=\s*var\.node_group_size\.max/,
    vpc_cidr: /cidrhost\(var\.vpc_cidr/,
    api_allowed_cidrs: /cidrhost\(/,
  };
  for (const [name, pattern] of Object.entries(mustValidate)) {
    const body = variables.get(name);
    assert.ok(body, `variable "${name}" is not declared`);
    const conditions = ((body.validation ?? []) as Body[]).map((v) => str(v.condition)).join('\n');
    assert.match(conditions, pattern, `variable "${name}" lacks the validation ${pattern}`);
  }
});

test('every var.x used is declared, and every declared variable is used', () => {
  const declared = new Set(model().variables.keys());
  const used = new Set([...codeText().matchAll(/\bvar\.([A-Za-z_][A-Za-z0-9_-]*)/g)].map((m) => m[1]));
  const undeclared = [...used].filter((v) => !declared.has(v)).sort();
  const unused = [...declared].filter((v) => !used.has(v)).sort();
  assert.deepEqual(undeclared, [], `used but not declared: ${undeclared.join(', ')}`);
  assert.deepEqual(unused, [], `declared but never used: ${unused.join(', ')}`);
});

test('modules are the community ones at exact versions; required_version and providers are pinned', () => {
  const { modules, terraform } = model();
  const sources = new Map<string, string>();
  for (const [name, body] of modules) {
    const version = str(body.version);
    assert.match(version, /^\d+\.\d+\.\d+$/, `module "${name}" must pin an exact version, has ${JSON.stringify(body.version)}`);
    sources.set(name, str(body.source));
  }
  const have = [...sources.values()];
  for (const source of [
    'terraform-aws-modules/vpc/aws',
    'terraform-aws-modules/eks/aws',
    'terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts',
  ]) {
    assert.ok(have.includes(source), `no module from ${source} (have ${have.join(', ')})`);
  }
  // One version of a module source across all its uses.
  for (const source of new Set(have)) {
    const versions = new Set([...modules].filter(([n]) => sources.get(n) === source).map(([, b]) => str(b.version)));
    assert.equal(versions.size, 1, `${source} is used at several versions: ${[...versions].join(', ')}`);
  }

  const required = terraform.map((t) => str(t.required_version)).filter((v) => v !== 'undefined');
  assert.equal(required.length, 1, 'one terraform { required_version } expected');
  assert.match(required[0], /^>= 1\.\d+\.\d+, < 2\.0\.0$/);

  const providers: Record<string, Body> = {};
  for (const t of terraform) {
    for (const block of (t.required_providers ?? []) as Body[]) {
      for (const [name, spec] of Object.entries(block)) {
        if (name.startsWith('__')) continue;
        providers[name] = one(spec) as Body;
      }
    }
  }
  for (const name of ['aws', 'helm', 'kubernetes']) assert.ok(providers[name], `provider ${name} is not in required_providers`);
  for (const [name, spec] of Object.entries(providers)) {
    assert.equal(spec.source, `hashicorp/${name}`, `provider ${name} has source ${String(spec.source)}`);
    // versions.tf's policy: exact, or "~> X.Y.Z" (patch releases only).
    assert.match(String(spec.version), /^(~> )?\d+\.\d+\.\d+$/, `provider ${name} is not pinned to a patch level: ${String(spec.version)}`);
  }
});

test('the outputs exist, described, and say what the docs promise', () => {
  const { outputs } = model();
  for (const name of ['cluster_name', 'region', 'kubeconfig_command', 'ecr_repository_urls', 'collector_irsa_role_arn', 'amp_remote_write_url']) {
    const body = outputs.get(name);
    assert.ok(body, `output "${name}" is missing`);
    assert.ok(str(body.description).length > 10, `output "${name}" has no description`);
  }
  assert.equal(str(outputs.get('kubeconfig_command')?.value), 'aws eks update-kubeconfig --region ${var.region} --name ${module.eks.cluster_name}');
  // (python-hcl2 writes null as None)
  assert.match(str(outputs.get('amp_remote_write_url')?.value), /^\$\{var\.enable_amp \? .+ : (null|None)\}$/);
  assert.match(str(outputs.get('ecr_repository_urls')?.value), /for \w+ ?, \w+ in aws_ecr_repository\.image : \w+ => \w+\.repository_url/);
});

test('the cluster: nodes in the private subnets, IRSA roles for the controller, EBS CSI and collector', () => {
  const { modules } = model();
  const eks = modules.get('eks');
  assert.ok(eks, 'module "eks" is missing');
  assert.equal(str(eks.subnet_ids), '${module.vpc.private_subnets}');
  const groups = one(eks.eks_managed_node_groups) as Record<string, Body>;
  assert.ok(Object.keys(groups).length >= 1, 'no managed node group');
  for (const [name, group] of Object.entries(groups)) {
    assert.equal(str(group.subnet_ids), '${module.vpc.private_subnets}', `node group ${name} is not in the private subnets`);
  }
  const irsa = [...modules.values()].filter((b) => str(b.source).endsWith('//modules/iam-role-for-service-accounts'));
  for (const flag of ['attach_load_balancer_controller_policy', 'attach_ebs_csi_policy', 'attach_amazon_managed_service_prometheus_policy']) {
    assert.ok(irsa.some((b) => b[flag] !== undefined), `no IRSA role sets ${flag}`);
  }
  const collector = modules.get('collector_irsa');
  assert.ok(collector, 'module "collector_irsa" is missing');
  const trusted = JSON.stringify(collector.oidc_providers);
  for (const sa of ['collector_agent_service_account', 'collector_gateway_service_account']) {
    assert.ok(trusted.includes(`local.${sa}`), `the collector role does not trust ${sa}`);
  }
});

test('ECR: one repository per image, immutable tags, scan on push, encrypted, with a lifecycle policy', () => {
  const images = str(model().locals.images);
  for (const name of ['service-a', 'service-b', 'preprocessing-edge', 'inference']) {
    assert.ok(images.includes(`'${name}'`) || images.includes(`"${name}"`), `local.images lacks ${name}: ${images}`);
  }
  const repo = resource('aws_ecr_repository', 'image');
  assert.equal(str(repo.for_each), '${local.images}');
  assert.equal(str(repo.name), 'meridian/${each.key}');
  assert.equal(str(repo.image_tag_mutability), 'IMMUTABLE');
  assert.equal(one((one(repo.image_scanning_configuration) as Body).scan_on_push), true);
  assert.match(str((one(repo.encryption_configuration) as Body).encryption_type), /^(KMS|AES256)$/);
  const lifecycle = resource('aws_ecr_lifecycle_policy', 'image');
  assert.equal(str(lifecycle.for_each), '${aws_ecr_repository.image}');
});

test('the Helm releases match deploy/helm/platform: values files, release names, chart versions', () => {
  // install.sh is the other way to install the same platform; both must agree.
  const installSh = readFileSync(join(platformDir, 'install.sh'), 'utf8').replace(/\\\n\s*/g, ' ');
  const shVersions = Object.fromEntries([...installSh.matchAll(/^(\w+_CHART_VERSION)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  // A release's values files: the one after the version, then any `--values "$HERE/<file>"`.
  const shReleases = [...installSh.matchAll(/^release (\S+) \S+\/(\S+) "\$(\w+)"\s+(\S+\.yaml)(.*)$/gm)].map((m) => ({
    name: m[1],
    chart: m[2],
    version: shVersions[m[3]],
    values: [m[4], ...[...m[5].matchAll(/--values "\$HERE\/([\w.-]+\.yaml)"/g)].map((v) => v[1])],
  }));
  assert.ok(shReleases.length >= 5, `could not read the releases of deploy/helm/platform/install.sh (found ${shReleases.length})`);

  const chartVersions = one(model().locals.chart_versions) as Record<string, string>;
  const tfReleases = model()
    .resources.filter((r) => r.type === 'helm_release')
    .map((r) => {
      const versionRef = /^\$\{local\.chart_versions\.(\w+)\}$/.exec(str(r.body.version));
      assert.ok(versionRef, `helm_release.${r.name} must take its version from local.chart_versions`);
      const values = ((one(r.body.values) ?? []) as string[]).map((v) => /^\$\{file\("\$\{path\.module\}\/\.\.\/helm\/platform\/([^"]+)"\)\}$/.exec(v)?.[1]);
      return { resource: r.name, name: str(r.body.name), chart: str(r.body.chart), version: chartVersions[versionRef[1]], values };
    });
  assert.ok(tfReleases.some((r) => r.chart === 'aws-load-balancer-controller'), 'no helm_release of aws-load-balancer-controller');

  for (const sh of shReleases) {
    const tf = tfReleases.find((r) => r.name === sh.name);
    assert.ok(tf, `install.sh installs release ${sh.name}, platform.tf has no helm_release named so`);
    assert.equal(tf.chart, sh.chart, `release ${sh.name}: chart`);
    assert.equal(tf.version, sh.version, `release ${sh.name}: chart version differs from install.sh's`);
    assert.deepEqual(tf.values, sh.values, `release ${sh.name} must read ${sh.values.map((v) => `file("\${path.module}/../helm/platform/${v}")`).join(', ')}`);
  }
  const missing = shReleases.flatMap((r) => r.values).filter((f) => !existsSync(join(platformDir, f)));
  assert.deepEqual(missing, [], `values files read by platform.tf are missing from deploy/helm/platform: ${missing.join(', ')}`);
  const unused = readdirSync(platformDir)
    .filter((f) => f.endsWith('.yaml'))
    .filter((f) => !tfReleases.some((r) => r.values.includes(f)));
  assert.deepEqual(unused, [], `deploy/helm/platform values files no helm_release reads: ${unused.join(', ')}`);
});

test('EKS runs the Kubernetes minor of the local cluster (KUBERNETES_VERSION of scripts/tools/versions.env)', () => {
  const pinned = /^KUBERNETES_VERSION=v(\d+\.\d+)\.\d+$/m.exec(readFileSync(join(repoRoot, 'scripts/tools/versions.env'), 'utf8'))?.[1];
  assert.ok(pinned, 'versions.env pins no KUBERNETES_VERSION');
  const variable = /variable "kubernetes_version" \{[\s\S]*?default\s*=\s*"([^"]+)"/.exec(readFileSync(join(tfDir, 'variables.tf'), 'utf8'))?.[1];
  assert.equal(variable, pinned, 'deploy/terraform kubernetes_version default');
});
