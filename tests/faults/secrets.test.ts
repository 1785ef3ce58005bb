// No secrets in the repository: every tracked file (git ls-files) is scanned for private keys,
// cloud keys, tokens and passwords in URLs. Known placeholders are allowed by name below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '@meridian/test-kit';

interface Rule {
  name: string;
  pattern: RegExp;
}

// Built from parts, so this file does not match its own rules.
const BEGIN = '-----BEGIN';
const RULES: Rule[] = [
  { name: 'private key', pattern: new RegExp(`${BEGIN} ((RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY( BLOCK)?-----`) },
  { name: 'AWS access key id', pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'AWS secret access key', pattern: /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}\b/i },
  { name: 'GitHub token', pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
  { name: 'npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: 'Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { name: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'JSON web token', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { name: 'bearer token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/ },
  { name: 'password in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@'"`<>${}]+:[^/\s:@'"`<>${}]{3,}@[a-z0-9.-]+/i },
  { name: 'hard-coded password', pattern: /\b(password|passwd|pwd|secret|api_?key|access_?token)\b["']?\s*[:=]\s*["'][^"'\s${}<>]{8,}["']/i },
];

/** Placeholders and test values that look like secrets on purpose. */
const ALLOWED: RegExp[] = [
  /test-token-not-a-secret/,
  /\bchangeme\b/i,
  /\bexample(password|secret|token)?\b/i,
  /\bplaceholder\b/i,
  /\b(user|username):(pass|password)@/i,
  /Bearer\s+(\$\{?[A-Z_]+\}?|<[^>]+>|TOKEN|xxx+)/,
];

/** Files that are not text, or whose secret-looking content is checksums (lock file integrity). */
const SKIP = [/\.(png|jpe?g|webp|gif|ico|onnx|pdf|zip|gz|tgz|woff2?)$/i, /(^|\/)package-lock\.json$/];

function scan(text: string): { rule: string; line: number; excerpt: string }[] {
  const hits: { rule: string; line: number; excerpt: string }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const rule of RULES) {
      const m = rule.pattern.exec(line);
      if (m && !ALLOWED.some((a) => a.test(m[0]))) hits.push({ rule: rule.name, line: i + 1, excerpt: m[0].slice(0, 24) + '…' });
    }
  });
  return hits;
}

test('the scanner finds what it looks for (so a clean result means something)', () => {
  const fakeAws = ['AKIA', 'ABCDEFGHIJKLMNOP'].join('');
  const fakeKey = `${BEGIN} RSA PRIVATE KEY-----`;
  const fakeUrl = ['https://deploy:', 's3cr3tvalue', '@registry.internal/x'].join('');
  const fakeBearer = ['Authorization: Bearer ', 'abcdefghijklmnopqrstuvwxyz012345'].join('');
  const found = scan([fakeAws, fakeKey, fakeUrl, fakeBearer, 'password: "changeme"'].join('\n')).map((h) => h.rule);
  assert.deepEqual(found, ['AWS access key id', 'private key', 'password in a URL', 'bearer token']);
});

test('no tracked file contains a secret', () => {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  assert.ok(files.length > 50, 'git ls-files lists the repository');
  const findings: string[] = [];
  let scanned = 0;
  for (const file of files) {
    if (SKIP.some((s) => s.test(file))) continue;
    const full = path.join(REPO_ROOT, file);
    let size: number;
    try {
      size = statSync(full).size;
    } catch {
      continue; // deleted in the work tree
    }
    if (size > 2 * 1024 * 1024) continue;
    const buf = readFileSync(full);
    if (buf.includes(0)) continue; // binary
    scanned += 1;
    for (const h of scan(buf.toString('utf8'))) findings.push(`${file}:${h.line}: ${h.rule} (${h.excerpt})`);
  }
  console.log(`secret scan: ${scanned} tracked text files, ${findings.length} findings`);
  assert.deepEqual(findings, [], 'secrets in tracked files (move them out, or allow a known placeholder in tests/faults/secrets.test.ts)');
});
