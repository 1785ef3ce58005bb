// The GitHub Actions workflows users of the repo get (.github/workflows): actionlint, the real,
// pinned linter (scripts/tools/install.sh builds it), accepts them and rejects a broken copy; and
// they do what the docs say: ci runs `npm test` on the images' Node (NODE_MAJOR of versions.env) and Go with the tools cache keyed by
// scripts/tools/versions.env; release, on a v* tag, pushes the four images to ECR with OIDC
// credentials and deploys the app chart with the EKS values. Nothing is run on GitHub here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { pinnedVersions } from '@meridian/test-kit';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, '.github', 'workflows', 'ci.yml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`.github/workflows/ci.yml not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
const workflowsDir = join(repoRoot, '.github', 'workflows');
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');
const workflowFiles = readdirSync(workflowsDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

/** A real tool from scripts/tools/install.sh's bin dir; missing means the test fails, never skips. */
function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it installs the pinned tools into ${binDir})`);
  }
  return path;
}

/**
 * actionlint on the given workflow files, from `cwd` (it needs the .github/workflows layout).
 * shellcheck and pyflakes integrations are off so the result does not depend on what else happens
 * to be installed on the machine.
 */
function actionlint(cwd: string, files: string[]): { status: number | null; output: string } {
  const r = spawnSync(tool('actionlint'), ['-no-color', '-shellcheck=', '-pyflakes=', ...files], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  'runs-on': string;
  needs?: string | string[];
  steps: Step[];
  strategy?: { matrix?: Record<string, unknown> };
  'timeout-minutes'?: number;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = (file: string): Workflow => parse(readFileSync(join(workflowsDir, file), 'utf8')) as Workflow;
const steps = (wf: Workflow): Step[] => Object.values(wf.jobs).flatMap((j) => j.steps);
function usesStep(job: Job, action: string): Step {
  const found = job.steps.find((s) => s.uses?.startsWith(`${action}@`));
  assert.ok(found, `no step uses ${action} (have: ${job.steps.map((s) => s.uses ?? s.run).join(', ')})`);
  return found;
}

test('actionlint accepts every workflow', () => {
  assert.deepEqual(workflowFiles, ['ci.yml', 'release.yml']);
  const r = actionlint(repoRoot, workflowFiles.map((f) => join('.github', 'workflows', f)));
  assert.equal(r.status, 0, `actionlint found problems:\n${r.output}`);
});

test('actionlint rejects a copy whose job needs an undefined job', () => {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-actionlint-'));
  try {
    const source = readFileSync(join(workflowsDir, 'release.yml'), 'utf8');
    const broken = source.replace(/^(\s+needs:\s*)images\s*$/m, '$1build-images');
    assert.notEqual(broken, source, 'release.yml has no `needs: images` to break');
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    writeFileSync(join(dir, '.github', 'workflows', 'release.yml'), broken);
    const r = actionlint(dir, [join('.github', 'workflows', 'release.yml')]);
    assert.notEqual(r.status, 0, `actionlint accepted a job that needs an undefined job:\n${r.output}`);
    assert.match(r.output, /build-images/, r.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every action is pinned to a version tag', () => {
  for (const file of workflowFiles) {
    for (const step of steps(workflow(file)).filter((s) => s.uses)) {
      assert.match(step.uses ?? '', /^[\w.-]+\/[\w./-]+@v\d+\.\d+\.\d+$/, `${file}: ${step.uses} is not pinned to a vX.Y.Z tag`);
    }
  }
});

test('ci runs npm test on every push, with the images\' Node, Go and the tools cache keyed by versions.env', () => {
  const ci = workflow('ci.yml');
  assert.ok('push' in ci.on, 'ci does not run on push');
  assert.equal(ci.permissions?.contents, 'read');
  const jobs = Object.values(ci.jobs);
  assert.equal(jobs.length, 1);
  const job = jobs[0];
  assert.match(job['runs-on'], /^ubuntu-/);
  assert.ok(job['timeout-minutes'], 'the test job has no timeout');
  assert.equal(String(usesStep(job, 'actions/setup-node').with?.['node-version']), pinnedVersions().NODE_MAJOR, 'node-version is NODE_MAJOR of versions.env');
  // install.sh requires this Go (GO_MIN_VERSION) to build the tools.
  const goMin = /^GO_MIN_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'scripts', 'tools', 'versions.env'), 'utf8'))?.[1];
  assert.equal(String(usesStep(job, 'actions/setup-go').with?.['go-version']), goMin);
  const cache = usesStep(job, 'actions/cache').with ?? {};
  assert.equal(cache.path, '~/.cache/meridian/tools');
  assert.match(String(cache.key), /hashFiles\('scripts\/tools\/versions\.env'/);
  const runs = job.steps.map((s) => s.run).filter(Boolean);
  assert.deepEqual(runs, ['npm test']);
});

test('release, on a v* tag, pushes the four images to ECR and deploys the chart with the EKS values', () => {
  const release = workflow('release.yml');
  assert.deepEqual((release.on.push as { tags: string[] }).tags, ['v*']);
  assert.equal(release.permissions?.['id-token'], 'write', 'OIDC needs id-token: write');
  assert.equal(release.permissions?.contents, 'read');

  const images = release.jobs.images;
  assert.ok(images, 'no images job');
  const include = images.strategy?.matrix?.include as { service: string; file: string; args: string }[];
  assert.deepEqual(include.map((i) => i.service).sort(), ['inference', 'preprocessing-edge', 'service-a', 'service-b']);
  for (const { service, file, args } of include) {
    assert.ok(existsSync(join(repoRoot, file)), `${service}: ${file} does not exist`);
    // The three Node services share services/Dockerfile: SERVICE and PORT name each one.
    if (file === 'services/Dockerfile') assert.match(args, new RegExp(`^SERVICE=${service}\\nPORT=\\d+$`), `${service}: build-args`);
    else assert.equal(file, `services/${service}/Dockerfile`);
  }
  const creds = usesStep(images, 'aws-actions/configure-aws-credentials').with ?? {};
  assert.match(String(creds['role-to-assume']), /^\$\{\{ vars\.\w+ \}\}$/, 'the role must come from a repository variable');
  const login = usesStep(images, 'aws-actions/amazon-ecr-login');
  const build = usesStep(images, 'docker/build-push-action').with ?? {};
  assert.equal(build.context, '.');
  assert.equal(build.file, '${{ matrix.file }}');
  assert.equal(build['build-args'], '${{ matrix.args }}');
  assert.equal(build.push, true);
  assert.equal(build.tags, `\${{ steps.${login.id}.outputs.registry }}/meridian/\${{ matrix.service }}:\${{ github.ref_name }}`);

  const deploy = release.jobs.deploy;
  assert.ok(deploy, 'no deploy job');
  assert.equal(deploy.needs, 'images');
  usesStep(deploy, 'aws-actions/configure-aws-credentials');
  const helmRun = deploy.steps.find((s) => s.run?.includes('helm upgrade'))?.run ?? '';
  const command = helmRun.replace(/\\\n\s*/g, ' ');
  assert.match(command, /helm upgrade --install meridian deploy\/helm\/meridian /);
  assert.match(command, / -f deploy\/helm\/meridian\/values-eks\.yaml /);
  for (const key of ['serviceA', 'serviceB', 'inference']) {
    assert.match(command, new RegExp(`--set ${key}\\.image\\.repository=`), `${key}.image.repository is not set`);
    assert.match(command, new RegExp(`--set ${key}\\.image\\.tag="\\$TAG"`), `${key}.image.tag is not set to the release tag`);
  }
  assert.doesNotMatch(command, /preprocessing-edge/, 'the edge image is not deployed in the cluster');

  // The keys it sets exist in the chart, and the EKS values file is there.
  const chart = join(repoRoot, 'deploy', 'helm', 'meridian');
  assert.ok(existsSync(join(chart, 'values-eks.yaml')), 'deploy/helm/meridian/values-eks.yaml does not exist');
  const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Record<string, { image?: Record<string, unknown> }>;
  for (const key of ['serviceA', 'serviceB', 'inference']) {
    assert.ok(values[key]?.image && 'repository' in values[key].image && 'tag' in values[key].image, `chart values lack ${key}.image.repository/tag`);
  }
  // The helm version it installs is the pinned one.
  assert.match(readFileSync(join(repoRoot, 'scripts', 'tools', 'versions.env'), 'utf8'), /^HELM_VERSION=v\d+\.\d+\.\d+$/m);
});
