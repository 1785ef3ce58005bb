// The services' Dockerfiles and the root .dockerignore, read statically (tests/containers builds
// and runs the images for real on a Docker engine): the Dockerfiles are parsed and held
// to the rules below (multi-stage, pinned base, production dependencies only, non-root, health
// check, the service-kit register hook), every COPY source must exist and survive .dockerignore,
// and the HEALTHCHECK command the images run is executed for real against a local HTTP server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { pinnedVersions } from '@meridian/test-kit';

function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package-lock.json')) && existsSync(join(dir, 'services'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`repository root not found above ${__dirname}`);
    dir = parent;
  }
}

const repoRoot = findRepoRoot();
// The Node of scripts/tools/versions.env (NODE_MAJOR), as the stand-in of scripts/images/standins.sh.
const BASE_IMAGE = `node:${pinnedVersions().NODE_MAJOR}-bookworm-slim`;
/** Node's flags for every service process (the local run and the bench read the same file). */
const { flags: NODE_FLAGS, env: NODE_ENV_VARS } = JSON.parse(readFileSync(join(repoRoot, 'packages/service-kit/node-flags.json'), 'utf8')) as {
  flags: string[];
  env: Record<string, string>;
};

/**
 * Folder -> npm package name, the ports it listens on, and its Dockerfile with the build arguments
 * that select it: the Node services share services/Dockerfile (SERVICE, PORT); inference has its own.
 */
const SERVICES: Record<string, { pkg: string; ports: number[]; file: string; args: Record<string, string> }> = {
  'service-a': { pkg: '@meridian/service-a', ports: [8080], file: 'services/Dockerfile', args: { SERVICE: 'service-a', PORT: '8080' } },
  'service-b': { pkg: '@meridian/service-b', ports: [8081], file: 'services/Dockerfile', args: { SERVICE: 'service-b', PORT: '8081' } },
  'preprocessing-edge': {
    pkg: '@meridian/preprocessing-edge',
    ports: [5010],
    file: 'services/Dockerfile',
    args: { SERVICE: 'preprocessing-edge', PORT: '5010' },
  },
  inference: { pkg: '@meridian/inference', ports: [8000, 8001, 8002], file: 'services/inference/Dockerfile', args: {} },
};

/** The Dockerfile of a service as the builder sees it: its build arguments substituted. */
function dockerfileText(folder: string): string {
  const { file, args } = SERVICES[folder];
  let text = readFileSync(join(repoRoot, file), 'utf8');
  for (const [name, value] of Object.entries(args)) {
    assert.match(text, new RegExp(`^ARG ${name}$`, 'm'), `${file}: ARG ${name} is not declared`);
    text = text.replaceAll('${' + name + '}', value);
  }
  return text;
}

const describeFile = (folder: string) => {
  const { file, args } = SERVICES[folder];
  return Object.keys(args).length ? `${file} (${Object.entries(args).map(([k, v]) => `${k}=${v}`).join(' ')})` : file;
};

// ------------------------------------------------------------------------------- Dockerfile parser

interface Instruction {
  keyword: string;
  args: string;
  line: number;
  /** Body of a heredoc (`<<'EOF'` ... `EOF`) that follows the instruction, if any. */
  heredoc?: string;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Enough of the Dockerfile grammar for these files: comments, `\` continuations, heredocs. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.split('\n');
  const instructions: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i])) continue;
      line = line.slice(0, -1) + ' ' + lines[i].trim();
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(line);
    assert.ok(m, `cannot parse line ${start + 1}: ${line}`);
    const ins: Instruction = { keyword: m[1].toUpperCase(), args: m[2].trim(), line: start + 1 };
    const here = /<<-?\s*'?"?([A-Za-z_]+)'?"?/.exec(ins.args);
    if (here && ins.keyword === 'RUN') {
      const body: string[] = [];
      for (i++; i < lines.length && lines[i].trim() !== here[1]; i++) body.push(lines[i]);
      assert.ok(i < lines.length, `heredoc ${here[1]} opened on line ${start + 1} is never closed`);
      ins.heredoc = body.join('\n');
    }
    instructions.push(ins);
  }
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `bad FROM on line ${ins.line}: ${ins.args}`);
      stages.push({ from: m[1], name: m[2], instructions: [] });
    } else {
      assert.ok(stages.length > 0 || ins.keyword === 'ARG', `${ins.keyword} before the first FROM (line ${ins.line})`);
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return stages;
}

/** COPY's flags and paths: `COPY [--from=x] [--chown=..] src... dest`. */
function copyArgs(ins: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = ins.args.split(/\s+/);
  let from: string | undefined;
  const paths: string[] = [];
  for (const w of words) {
    if (w.startsWith('--from=')) from = w.slice('--from='.length);
    else if (!w.startsWith('--')) paths.push(w);
  }
  const dest = paths.pop();
  assert.ok(dest && paths.length > 0, `COPY without source or destination on line ${ins.line}`);
  return { from, sources: paths, dest };
}

/** The exec-form JSON array of CMD/ENTRYPOINT/HEALTHCHECK CMD. */
function execForm(args: string, what: string): string[] {
  try {
    const parsed = JSON.parse(args) as unknown;
    assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'));
    return parsed as string[];
  } catch {
    assert.fail(`${what} must use the exec form (a JSON array), got: ${args}`);
  }
}

function env(stage: Stage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) out[m[1]] = m[2].replace(/^"|"$/g, '');
  }
  return out;
}

function healthcheckCommand(stage: Stage): string[] {
  const hc = stage.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
  assert.equal(hc.length, 1, 'the final stage needs exactly one HEALTHCHECK');
  const m = /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(.*)$/s.exec(hc[0].args);
  assert.ok(m, `HEALTHCHECK must be HEALTHCHECK [options] CMD [...]: ${hc[0].args}`);
  return execForm(m[2], 'HEALTHCHECK CMD');
}

// ---------------------------------------------------------------------------- .dockerignore rules

/** Docker's .dockerignore semantics: patterns from the context root, `**`, `!` exceptions, last match wins. */
function dockerignore(text: string): (relPath: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '').replace(/^\.\//, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i];
        if (c === '*' && pattern[i + 1] === '*') {
          i++;
          if (pattern[i + 1] === '/') {
            i++;
            re += '(?:.*/)?';
          } else re += '.*';
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      // A pattern that matches a folder excludes everything below it.
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (relPath) => {
    let excluded = false;
    for (const r of rules) if (r.re.test(relPath)) excluded = !r.negate;
    return excluded;
  };
}

const ignorePath = join(repoRoot, '.dockerignore');

// ------------------------------------------------------------------------------------------ tests

const workspaces = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;

test('every service is built by services/Dockerfile or a Dockerfile of its own, and none by two', () => {
  const folders = readdirSync(join(repoRoot, 'services'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  assert.deepEqual(folders, Object.keys(SERVICES).sort(), 'services/ and this test disagree on the services');
  for (const folder of folders) {
    const { file } = SERVICES[folder];
    assert.ok(existsSync(join(repoRoot, file)), `${file} is missing`);
    // One Dockerfile where images differ only by name: no service keeps a copy of its own besides it.
    if (file === 'services/Dockerfile') assert.ok(!existsSync(join(repoRoot, 'services', folder, 'Dockerfile')), `services/${folder}/Dockerfile duplicates services/Dockerfile`);
  }
});

test('.dockerignore keeps build output, dependencies, history and generated models out of the context', () => {
  assert.ok(existsSync(ignorePath), '.dockerignore is missing at the repository root');
  const ignored = dockerignore(readFileSync(ignorePath, 'utf8'));
  const mustExclude = [
    'node_modules/fastify/package.json',
    'services/service-a/node_modules/x/index.js',
    'packages/service-kit/node_modules/x/index.js',
    'services/service-a/dist/src/main.js',
    'packages/service-kit/dist/src/index.js',
    'tests/dist/deploy/compose.test.js',
    '.git/HEAD',
    'services/inference/models/generated/mobilenetv2.onnx',
    'services/service-a/tsconfig.tsbuildinfo',
  ];
  for (const p of mustExclude) assert.ok(ignored(p), `.dockerignore does not exclude ${p}`);
  const mustKeep = [
    'package.json',
    'package-lock.json',
    '.npmrc',
    'tsconfig.base.json',
    'packages/service-kit/src/index.ts',
    'packages/service-kit/tsconfig.json',
    'packages/test-kit/src/index.ts',
    'services/service-a/src/main.ts',
    'services/inference/src/models/generate-cli.ts',
    'services/inference/data/imagenet-classes.json',
  ];
  for (const p of mustKeep) assert.ok(!ignored(p), `.dockerignore excludes ${p}, which the images need`);
});

test('the .dockerignore matcher follows Docker semantics (so the test above can fail)', () => {
  const m = dockerignore('**/dist\nnode_modules\n!keep/node_modules\n');
  assert.ok(m('dist/x') && m('a/b/dist/c'), '**/dist must match at any depth');
  assert.ok(m('node_modules/a') && !m('a/node_modules/b'), 'a plain pattern is anchored at the context root');
  assert.ok(!m('keep/node_modules'), '! re-includes');
  assert.ok(!m('distance/x'), 'dist must not match distance');
});

for (const [folder, { pkg, ports }] of Object.entries(SERVICES)) {
  const rel = describeFile(folder);

  test(`${rel}: multi-stage, pinned base image, production dependencies only`, () => {
    const stages = parseDockerfile(dockerfileText(folder));
    assert.ok(stages.length >= 2, `${rel} has ${stages.length} FROM; a multi-stage build needs at least 2`);
    const names = new Set(stages.map((s) => s.name).filter(Boolean));
    for (const s of stages) {
      if (names.has(s.from)) continue;
      assert.equal(s.from, BASE_IMAGE, `${rel}: base images are pinned by tag to ${BASE_IMAGE}, got ${s.from}`);
    }
    const final = stages.at(-1)!;
    assert.equal(final.from, BASE_IMAGE, `${rel}: the final stage starts from the plain base image`);

    // The final stage installs nothing: its node_modules come from a stage that ran a production-only
    // `npm ci` for this workspace alone.
    for (const ins of final.instructions.filter((i) => i.keyword === 'RUN')) {
      assert.doesNotMatch(ins.args, /\bnpm\s+(i|install|ci|add)\b/, `${rel}: no npm install in the final stage (line ${ins.line})`);
    }
    const modulesCopy = final.instructions
      .filter((i) => i.keyword === 'COPY')
      .map(copyArgs)
      .find((c) => c.sources.some((s) => /node_modules\/?$/.test(s)));
    assert.ok(modulesCopy?.from, `${rel}: the final stage copies node_modules from an earlier stage`);
    const depsStage = stages.find((s) => s.name === modulesCopy.from);
    assert.ok(depsStage, `${rel}: stage ${modulesCopy.from} not found`);
    const ci = depsStage.instructions.find((i) => i.keyword === 'RUN' && /\bnpm\s+ci\b/.test(i.args));
    assert.ok(ci, `${rel}: stage ${depsStage.name} must run npm ci`);
    assert.match(ci.args, /--omit=dev\b/, `${rel}: the runtime dependencies are installed with --omit=dev`);
    assert.match(ci.args, new RegExp(`--workspace[= ]${pkg.replace(/[/@]/g, '\\$&')}(\\s|$)`), `${rel}: npm ci --workspace ${pkg}`);
    assert.match(ci.args, /--include-workspace-root=false\b/, `${rel}: the root's dev tools (typescript) stay out`);
    assert.doesNotMatch(depsStage.from, /^(build|models)$/, `${rel}: the dependencies stage starts clean, not from the build stage`);

    // Every stage that runs npm ci has the lock file, .npmrc (onnxruntime-node-install=skip) and every
    // workspace's package.json first: the lock file lists them all.
    for (const s of stages) {
      const at = s.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm\s+ci\b/.test(i.args));
      if (at < 0) continue;
      const copied = s.instructions
        .slice(0, at)
        .filter((i) => i.keyword === 'COPY')
        .map(copyArgs)
        .filter((c) => !c.from)
        .flatMap((c) => c.sources);
      for (const needed of ['package.json', 'package-lock.json', '.npmrc', ...workspaces.map((w) => `${w}/package.json`)]) {
        assert.ok(copied.includes(needed), `${rel}: stage ${s.name ?? '(final)'} runs npm ci before copying ${needed}`);
      }
    }
  });

  test(`${rel}: runtime stage runs the service as non-root, with service-kit built in`, () => {
    const stages = parseDockerfile(dockerfileText(folder));
    const final = stages.at(-1)!;
    const users = final.instructions.filter((i) => i.keyword === 'USER');
    assert.ok(users.length > 0, `${rel}: the final stage sets no USER (it would run as root)`);
    // Numeric, so that Kubernetes' runAsNonRoot can verify it without resolving a user name.
    const uid = /^(\d+)(?::\d+)?$/.exec(users.at(-1)!.args);
    assert.ok(uid, `${rel}: USER ${users.at(-1)!.args} must be a numeric UID[:GID]`);
    assert.notEqual(Number(uid[1]), 0, `${rel}: USER ${users.at(-1)!.args} is root`);

    const e = env(final);
    assert.equal(e.NODE_ENV, 'production', `${rel}: ENV NODE_ENV=production`);
    assert.equal(e.HOST, '0.0.0.0', `${rel}: ENV HOST=0.0.0.0 (the services bind 127.0.0.1 by default)`);
    for (const [name, value] of Object.entries(NODE_ENV_VARS)) {
      assert.equal(e[name], value, `${rel}: ENV ${name}=${value}, as in packages/service-kit/node-flags.json`);
    }

    const cmd = execForm(final.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '', 'CMD');
    assert.deepEqual(cmd, ['node', ...NODE_FLAGS, '--require', '@meridian/service-kit/register', 'dist/src/main.js'], `${rel}: CMD, with the flags of packages/service-kit/node-flags.json`);
    const workdir = final.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args;
    assert.equal(workdir, `/app/services/${folder}`, `${rel}: the CMD runs from the service's folder`);

    // @meridian/service-kit is a workspace link (node_modules/@meridian/service-kit ->
    // packages/service-kit): its package.json (exports) and compiled code must be in the image.
    const copies = final.instructions.filter((i) => i.keyword === 'COPY').map(copyArgs);
    const dests = copies.map((c) => c.dest.replace(/\/$/, ''));
    assert.ok(dests.includes('packages/service-kit') && copies.some((c) => c.sources.includes('packages/service-kit/package.json')), `${rel}: service-kit's package.json`);
    assert.ok(
      copies.some((c) => c.from && c.sources.some((s) => s.includes('packages/service-kit/dist/src'))),
      `${rel}: service-kit's compiled dist/src, from the build stage`,
    );
    assert.ok(
      copies.some((c) => c.from && c.sources.some((s) => s.includes(`services/${folder}/dist/src`))),
      `${rel}: the service's compiled dist/src, from the build stage`,
    );
    for (const c of copies) {
      for (const s of c.sources) assert.doesNotMatch(s, /(^|\/)test(\/|$)|test-kit/, `${rel}: test code in the final image (${s})`);
    }

    const exposed = final.instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((p) => Number(p.split('/')[0]));
    assert.deepEqual(exposed.sort(), [...ports].sort(), `${rel}: EXPOSE the service's port(s)`);

    const hc = healthcheckCommand(final);
    assert.equal(hc[0], 'node', `${rel}: the HEALTHCHECK uses node (no curl or wget in node images)`);
    // service-kit's healthcheck.js asks /healthy (liveness); the test below runs it.
    assert.equal(hc[1], '/app/packages/service-kit/dist/src/healthcheck.js', `${rel}: the HEALTHCHECK runs service-kit's healthcheck`);
  });

  test(`${rel}: every COPY source from the context exists and is not excluded by .dockerignore`, () => {
    const ignored = dockerignore(readFileSync(ignorePath, 'utf8'));
    const stages = parseDockerfile(dockerfileText(folder));
    const stageNames = new Set(stages.map((s) => s.name).filter(Boolean));
    for (const s of stages) {
      for (const c of s.instructions.filter((i) => i.keyword === 'COPY').map(copyArgs)) {
        if (c.from) {
          assert.ok(stageNames.has(c.from), `${rel}: COPY --from=${c.from} names no stage`);
          continue;
        }
        for (const src of c.sources) {
          const p = src.replace(/\/$/, '');
          assert.ok(existsSync(join(repoRoot, p)), `${rel}: COPY ${src}: no such path in the repository`);
          assert.ok(!ignored(p), `${rel}: COPY ${src} is excluded by .dockerignore`);
        }
      }
    }
  });

  test(`${rel}: its HEALTHCHECK command passes on 200 from /healthy and fails otherwise`, async () => {
    const final = parseDockerfile(dockerfileText(folder)).at(-1)!;
    // The image's /app is the repository root's layout: run the same file from the built tree.
    const [bin, ...args] = healthcheckCommand(final).map((a) => (a.startsWith('/app/') ? join(repoRoot, a.slice('/app/'.length)) : a));
    let status = 200;
    const seen: string[] = [];
    const server: Server = createServer((req, res) => {
      seen.push(req.url ?? '');
      res.writeHead(status).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const run = (extra: NodeJS.ProcessEnv) =>
      new Promise<number | null>((resolve, reject) => {
        // Asynchronous, so this process's server can answer while the check runs.
        const child = spawn(bin === 'node' ? process.execPath : bin, args, {
          env: { PATH: process.env.PATH, ...extra },
          stdio: 'ignore',
          timeout: 15_000,
        });
        child.on('error', reject);
        child.on('exit', (code) => resolve(code));
      });
    try {
      const roleEnv = folder === 'inference' ? { ROLE: 'ensemble' } : {};
      assert.equal(await run({ PORT: String(port), ...roleEnv }), 0, `${rel}: healthy service reported unhealthy`);
      assert.deepEqual(seen, ['/healthy']);
      status = 503;
      assert.equal(await run({ PORT: String(port), ...roleEnv }), 1, `${rel}: a 503 from /healthy must fail the check`);
      server.close();
      await once(server, 'close');
      assert.equal(await run({ PORT: String(port), ...roleEnv }), 1, `${rel}: nothing listening must fail the check`);
    } finally {
      server.close();
    }
  });
}

test('services/inference/Dockerfile: models generated at build time, pretrained files by build argument', () => {
  const rel = 'services/inference/Dockerfile';
  const stages = parseDockerfile(readFileSync(join(repoRoot, rel), 'utf8'));
  const all = stages.flatMap((s) => s.instructions);
  const arg = (name: string) => all.find((i) => i.keyword === 'ARG' && i.args.split('=')[0] === name);
  assert.equal(arg('PRETRAINED')?.args, 'PRETRAINED=false', `${rel}: ARG PRETRAINED=false (untrained graphs by default)`);
  for (const name of ['MODEL_URL_MOBILENETV2', 'MODEL_URL_EFFICIENTNETB0']) assert.ok(arg(name), `${rel}: ARG ${name}`);
  assert.ok(
    all.some((i) => i.keyword === 'RUN' && /generate-cli\.js/.test(i.args)),
    `${rel}: the repo's generator writes the untrained graphs at build time`,
  );
  const final = stages.at(-1)!;
  const copies = final.instructions.filter((i) => i.keyword === 'COPY').map(copyArgs);
  assert.ok(copies.some((c) => c.from && c.dest.startsWith('services/inference/models')), `${rel}: the models reach the final image`);
  assert.ok(copies.some((c) => c.sources.includes('services/inference/data/')), `${rel}: the ImageNet labels reach the final image`);
  assert.ok(!('PORT' in env(final)), `${rel}: no fixed PORT: each role has its own default`);
  // The download itself is services/inference/src/models/fetch-pretrained-cli.ts, unit-tested there.
  const fetches = all.filter((i) => i.keyword === 'RUN' && /fetch-pretrained-cli\.js services\/inference\/models\/pretrained/.test(i.args));
  assert.equal(fetches.length, 1, `${rel}: one build-time download step, the repo's fetch-pretrained-cli`);
});

test("every Dockerfile builds with the engine's built-in frontend: no # syntax= directive, no heredoc", () => {
  for (const folder of Object.keys(SERVICES)) {
    const rel = SERVICES[folder].file;
    const text = readFileSync(join(repoRoot, rel), 'utf8');
    // A syntax directive makes BuildKit pull a frontend image, which air-gapped networks cannot.
    assert.doesNotMatch(text, /^#\s*syntax\s*=/im, `${rel}: no # syntax= directive`);
    const heredocs = parseDockerfile(text).flatMap((st) => st.instructions).filter((i) => i.heredoc !== undefined);
    assert.deepEqual(heredocs.map((i) => i.line), [], `${rel}: program text belongs in a file of the repo, not in a heredoc`);
  }
});

