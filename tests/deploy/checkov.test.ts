// checkov, the real IaC scanner (pinned; scripts/tools/install.sh puts it in a virtualenv), on
// everything the repo deploys with: the Terraform of deploy/terraform, the GitHub workflows, the
// services' Dockerfiles, and the app chart deploy/helm/meridian rendered by the pinned helm with
// each of its values files. A check may be skipped only where the file says so, with a reason:
//   Terraform/Dockerfile:  #checkov:skip=CKV_...:reason        (inside the resource / in the file)
//   Kubernetes (chart):    metadata.annotations: checkov.io/skip1: CKV_K8S_...=reason
// Nothing is downloaded (--skip-download; external Terraform modules are not fetched, so the
// community modules' own resources are not scanned here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

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
const binDir = join(process.env.MERIDIAN_TOOLS_DIR || join(homedir(), '.cache', 'meridian', 'tools'), 'bin');
const CHECKOV_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 240_000;

/** A real tool from scripts/tools/install.sh's bin dir; missing means the test fails, never skips. */
function tool(name: string): string {
  const path = join(binDir, name);
  if (!existsSync(path)) {
    assert.fail(`${name} not found at ${path}: run scripts/tools/install.sh (it installs the pinned tools into ${binDir})`);
  }
  return path;
}

interface Finding {
  check_id: string;
  check_name: string;
  file_path: string;
  file_abs_path?: string;
  resource: string;
  file_line_range: [number, number];
  check_result: { result: string; suppress_comment?: string };
}
interface Report {
  check_type: string;
  results?: { passed_checks: Finding[]; failed_checks: Finding[]; skipped_checks: Finding[]; parsing_errors: string[] };
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count?: number };
}

/** One checkov run; its JSON report(s), one per framework that found files. */
function checkov(args: string[]): Report[] {
  const started = Date.now();
  const r = spawnSync(tool('checkov'), [...args, '--output', 'json', '--compact', '--skip-download'], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: CHECKOV_TIMEOUT_MS,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LOG_LEVEL: 'ERROR' },
  });
  if (r.error) throw r.error;
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.stdout);
  } catch {
    assert.fail(`checkov ${args.join(' ')} gave no JSON report (exit ${r.status}):\n${r.stderr.slice(-4000)}`);
  }
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as Report[];
  const scanned = reports.filter((x) => x.results);
  assert.ok(scanned.length > 0, `checkov ${args.join(' ')} scanned nothing: ${r.stdout.slice(0, 500)}`);
  process.stdout.write(`# checkov ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return scanned;
}

/** `file:lines resource CHECK name`, for the failure message. */
function describe(f: Finding, where: (f: Finding) => string = (x) => x.file_path.replace(/^\//, '')): string {
  return `${where(f)}:${f.file_line_range.join('-')} ${f.resource}: ${f.check_id} ${f.check_name}`;
}

/** No failed check, no parsing error, and every skip written with a reason. */
function assertClean(reports: Report[], label: string, where?: (f: Finding) => string): void {
  const failed = reports.flatMap((x) => x.results?.failed_checks ?? []);
  const parsing = reports.flatMap((x) => x.results?.parsing_errors ?? []);
  const unexplained = reports
    .flatMap((x) => x.results?.skipped_checks ?? [])
    .filter((f) => !f.check_result.suppress_comment || /^no comment provided$/i.test(f.check_result.suppress_comment.trim()));
  const passed = reports.reduce((n, x) => n + x.summary.passed, 0);
  assert.ok(passed > 0, `${label}: checkov ran no check`);
  assert.deepEqual(parsing, [], `${label}: checkov could not parse ${parsing.join(', ')}`);
  assert.deepEqual(
    unexplained.map((f) => describe(f, where)),
    [],
    `${label}: checkov skips without a reason (write #checkov:skip=CKV_...:reason, or checkov.io/skipN: CKV_...=reason)`,
  );
  const byCheck = new Map<string, number>();
  for (const f of failed) byCheck.set(`${f.check_id} ${f.check_name}`, (byCheck.get(`${f.check_id} ${f.check_name}`) ?? 0) + 1);
  const summary = [...byCheck].map(([check, n]) => `  ${n} × ${check}`).join('\n');
  assert.deepEqual(
    failed.map((f) => describe(f, where)).sort(),
    [],
    `${label}: ${failed.length} failed checkov check(s); fix them, or skip each with its reason in the file:\n${summary}\n`,
  );
}

test('checkov: deploy/terraform has no failed check', { timeout: TEST_TIMEOUT_MS }, () => {
  assertClean(checkov(['--directory', 'deploy/terraform', '--framework', 'terraform']), 'deploy/terraform');
});

test('checkov: the GitHub workflows have no failed check', { timeout: TEST_TIMEOUT_MS }, () => {
  assertClean(checkov(['--directory', '.github/workflows', '--framework', 'github_actions']), '.github/workflows');
});

test("checkov: the services' Dockerfiles have no failed check", { timeout: TEST_TIMEOUT_MS }, () => {
  // services/Dockerfile builds the Node services; a service folder may have a Dockerfile of its own (inference).
  const dockerfiles = ['services/Dockerfile', ...readdirSync(join(repoRoot, 'services')).sort().map((s) => join('services', s, 'Dockerfile'))].filter((f) =>
    existsSync(join(repoRoot, f)) && statSync(join(repoRoot, f)).isFile(),
  );
  assert.ok(dockerfiles.includes('services/Dockerfile') && dockerfiles.includes('services/inference/Dockerfile'), `Dockerfiles found: ${dockerfiles.join(', ')}`);
  assertClean(checkov(['--framework', 'dockerfile', ...dockerfiles.flatMap((f) => ['--file', f])]), 'Dockerfiles');
});

test('checkov: the app chart, rendered with each values file, has no failed check', { timeout: TEST_TIMEOUT_MS }, () => {
  const chartDir = join(repoRoot, 'deploy', 'helm', 'meridian');
  assert.ok(existsSync(join(chartDir, 'Chart.yaml')), 'deploy/helm/meridian/Chart.yaml does not exist');
  const valuesFiles = readdirSync(chartDir)
    .filter((f) => /^values(-[\w-]+)?\.yaml$/.test(f))
    .sort();
  assert.ok(valuesFiles.includes('values.yaml') && valuesFiles.includes('values-eks.yaml'), `values files: ${valuesFiles.join(', ')}`);

  const work = mkdtempSync(join(tmpdir(), 'meridian-checkov-helm-'));
  try {
    // helm keeps caches and config under these; a temp home leaves the user's untouched.
    const env = {
      ...process.env,
      HELM_CACHE_HOME: join(work, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(work, 'helm', 'config'),
      HELM_DATA_HOME: join(work, 'helm', 'data'),
    };
    const outDir = join(work, 'rendered');
    mkdirSync(outDir);
    const rendered = new Map<string, string>();
    for (const values of valuesFiles) {
      const r = spawnSync(tool('helm'), ['template', 'meridian', chartDir, '--namespace', 'meridian', '--values', join(chartDir, values)], {
        env,
        encoding: 'utf8',
        timeout: 60_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      if (r.error) throw r.error;
      assert.equal(r.status, 0, `helm template with ${values} failed:\n${r.stderr}`);
      const name = values.replace(/\.yaml$/, '.rendered.yaml');
      writeFileSync(join(outDir, name), r.stdout);
      rendered.set(name, r.stdout);
    }
    // Name the chart template each finding comes from (helm writes "# Source: <chart>/<template>").
    const where = (f: Finding): string => {
      const file = relative(outDir, f.file_abs_path ?? join(outDir, f.file_path));
      const lines = (rendered.get(file) ?? '').split('\n').slice(0, f.file_line_range[0]);
      const source = [...lines].reverse().find((l) => l.startsWith('# Source: '));
      return `${file}${source ? ` (${source.slice('# Source: '.length)})` : ''}`;
    };
    assertClean(checkov(['--directory', outDir, '--framework', 'kubernetes']), 'deploy/helm/meridian (rendered)', where);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
