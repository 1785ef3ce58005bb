import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { npmBuildSecrets } from '../src/docker';

const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-npm-secrets-test-'));
const ca = path.join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n(a CA the secrets only point at)\n-----END CERTIFICATE-----\n');
// An npm whose global and user npmrc are empty: only what the environment below says.
const [globalRc, userRc] = ['global-npmrc', 'user-npmrc'].map((name) => path.join(dir, name));
for (const rc of [globalRc, userRc]) writeFileSync(rc, '');
const bareNpm: NodeJS.ProcessEnv = { ...process.env, npm_config_globalconfig: globalRc, npm_config_userconfig: userRc };
delete bareNpm.npm_config_cafile;
delete bareNpm.NODE_EXTRA_CA_CERTS;
test.after(() => rmSync(dir, { recursive: true, force: true }));

function secretsWith(env: NodeJS.ProcessEnv): { args: string[]; npmrc: string; npmca?: string } {
  const s = npmBuildSecrets(env);
  try {
    return { args: s.args, npmrc: readFileSync(s.files.npmrc, 'utf8'), npmca: s.files.npmca };
  } finally {
    s.cleanup();
  }
}

test("npm's cafile goes into the build as /run/secrets/npmca", () => {
  const s = secretsWith({ ...bareNpm, npm_config_cafile: ca });
  assert.equal(s.npmca, ca);
  assert.ok(s.args.includes(`id=npmca,src=${ca}`), s.args.join(' '));
  assert.match(s.npmrc, /^cafile=\/run\/secrets\/npmca$/m);
});

test('where npm names no cafile, the NODE_EXTRA_CA_CERTS npm runs with goes in instead', () => {
  const s = secretsWith({ ...bareNpm, NODE_EXTRA_CA_CERTS: ca });
  assert.equal(s.npmca, ca);
  assert.ok(s.args.includes(`id=npmca,src=${ca}`), s.args.join(' '));
  assert.match(s.npmrc, /^cafile=\/run\/secrets\/npmca$/m);
});

test('with neither, the build gets the registry alone', () => {
  const s = secretsWith(bareNpm);
  assert.equal(s.npmca, undefined);
  assert.ok(!s.args.some((a) => a.startsWith('id=npmca')), s.args.join(' '));
  assert.doesNotMatch(s.npmrc, /cafile/);
  assert.match(s.npmrc, /^registry=https?:\/\/\S+$/m);
});
