// `npm audit --omit=dev`: no high or critical finding in the production dependencies unless it is
// listed, with its reason, in docs/security.md ("Accepted findings").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@meridian/test-kit';

interface Accepted {
  name: string;
  severity: string;
  reason: string;
}

/** The rows of the "Accepted findings" table in docs/security.md. */
function acceptedFindings(): Accepted[] {
  const text = readFileSync(path.join(REPO_ROOT, 'docs/security.md'), 'utf8');
  const start = text.indexOf('### Accepted findings');
  assert.ok(start !== -1, 'docs/security.md has an "Accepted findings" section');
  const rows = text
    .slice(start)
    .split('\n')
    .filter((l) => /^\|/.test(l))
    .slice(2) // header and separator
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  return rows.map(([name, severity, , reason]) => {
    assert.ok(name && /^(high|critical)$/.test(severity) && reason && reason.length > 10, `row "${name}" needs a severity and a reason`);
    return { name, severity, reason };
  });
}

test('the accepted-findings list in docs/security.md is well formed', () => {
  acceptedFindings();
});

test('npm audit --omit=dev: every high or critical finding is fixed or written down', { timeout: 120_000 }, (t) => {
  const res = spawnSync('npm', ['audit', '--omit=dev', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 100_000 });
  let report: { vulnerabilities?: Record<string, { severity: string; via: unknown[] }>; message?: string; error?: { summary?: string } };
  try {
    report = JSON.parse(res.stdout);
  } catch {
    assert.fail(`npm audit gave no JSON report (exit ${res.status}): ${res.stderr.slice(-1000)}`);
  }
  if (!report.vulnerabilities) {
    // The registry answered, but not with an audit (mirrors often lack the endpoint).
    const why = report.message ?? report.error?.summary ?? `exit ${res.status}`;
    if (process.env.MERIDIAN_REQUIRE_AUDIT === 'true') assert.fail(`npm audit is unavailable: ${why}`);
    console.log(`npm audit is unavailable from this registry (${why}); set MERIDIAN_REQUIRE_AUDIT=true to fail on that`);
    t.skip(`npm audit unavailable: ${why}`);
    return;
  }
  const accepted = new Set(acceptedFindings().map((a) => a.name));
  const serious = Object.entries(report.vulnerabilities).filter(([, v]) => v.severity === 'high' || v.severity === 'critical');
  const unexplained = serious.filter(([name]) => !accepted.has(name)).map(([name, v]) => `${name} (${v.severity})`);
  console.log(`npm audit: ${Object.keys(report.vulnerabilities).length} findings, ${serious.length} high/critical, ${unexplained.length} not documented`);
  assert.deepEqual(unexplained, [], 'fix these or document them in docs/security.md');
});
