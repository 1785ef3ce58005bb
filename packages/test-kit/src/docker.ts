import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './service-process';
import { runCommand, toolPath, type CommandResult, type RunOptions } from './tools';

/**
 * A Docker engine for the container tests: the one DOCKER_HOST names when it answers (a user's
 * own), else the private engine of scripts/tools/docker-engine.sh, started here and stopped again
 * by stop() when this started it. MERIDIAN_SKIP_CONTAINERS=1 is the only way around it: then
 * `skipReason` says so and the caller skips; otherwise an engine that cannot start fails with its reason.
 */
export interface DockerEngine {
  host: string;
  /** Runs the docker client (Debian's, with BuildKit built in: scripts/tools/install.sh docker) against this engine. */
  docker(args: string[], opts?: RunOptions): Promise<CommandResult>;
  /** docker, failing with its output unless it exits 0; resolves with stdout, trimmed. */
  ok(args: string[], opts?: RunOptions): Promise<string>;
  /** The environment that points a docker client at this engine. */
  env: NodeJS.ProcessEnv;
  /** Stops the private engine if this started it; on the private engine, first trims what builds left behind. */
  stop(): Promise<void>;
}

export const SKIP_CONTAINERS = process.env.MERIDIAN_SKIP_CONTAINERS === '1';
export const SKIP_REASON = 'MERIDIAN_SKIP_CONTAINERS=1: the container tests are skipped on purpose';

const ENGINE_SCRIPT = path.join(REPO_ROOT, 'scripts/tools/docker-engine.sh');

export async function dockerEngine(): Promise<DockerEngine> {
  const client = toolPath('docker');
  const answers = (host: string) =>
    runCommand(client, ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: host }, timeoutMs: 15_000 }).then(
      (r) => r.code === 0,
    );
  let host = process.env.DOCKER_HOST ?? '';
  let started = false;
  if (!host || !(await answers(host))) {
    const status = await runCommand('bash', [ENGINE_SCRIPT, 'status'], { timeoutMs: 15_000 });
    if (status.code !== 0) {
      const start = await runCommand('bash', [ENGINE_SCRIPT, 'start'], { timeoutMs: 90_000 });
      if (start.code !== 0) throw new Error(`no Docker engine: ${start.output.trim().split('\n').at(-1)} (MERIDIAN_SKIP_CONTAINERS=1 skips these tests)`);
      started = true;
    }
    host = (await runCommand('bash', [ENGINE_SCRIPT, 'host'])).stdout.trim();
  }
  const privateEngine = host === (await runCommand('bash', [ENGINE_SCRIPT, 'host'])).stdout.trim();
  const env = { ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '1' };
  const docker = (args: string[], opts: RunOptions = {}) => runCommand(client, args, { timeoutMs: 120_000, ...opts, env: { ...env, ...opts.env } });
  return {
    host,
    env,
    docker,
    async ok(args, opts) {
      const r = await docker(args, opts);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}:\n${r.output.slice(-3000)}`);
      return r.stdout.trim();
    },
    async stop() {
      // Only on our own engine (a user's build cache is theirs): untagged images go, and the build
      // cache keeps 3 GB, enough for the next builds to hit it, so the data root does not grow run by run.
      if (privateEngine) {
        await docker(['image', 'prune', '--force'], { timeoutMs: 300_000 });
        await docker(['builder', 'prune', '--force', '--keep-storage', '3gb'], { timeoutMs: 300_000 });
      }
      if (started) await runCommand('bash', [ENGINE_SCRIPT, 'stop'], { timeoutMs: 60_000 });
    },
  };
}

/**
 * Build secrets that let npm inside `docker build` reach the registry this machine uses: an npmrc
 * with its registry and, when npm here trusts an extra CA file, that file (named in the npmrc as
 * /run/secrets/npmca, where BuildKit mounts it). Returns the --secret flags, the files they name
 * (for tools that take the files, as skaffold's npm-secrets profile does) and a cleanup.
 *
 * The CA file is npm's `cafile` or, where npm names none, Node's NODE_EXTRA_CA_CERTS, which npm
 * here runs with. npm finds its global npmrc beside the node that runs it, so under the pinned
 * Node (scripts/tools/install.sh node) it does not see the machine's; a registry behind a proxy
 * with its own CA is then trusted through NODE_EXTRA_CA_CERTS alone.
 */
export function npmBuildSecrets(env: NodeJS.ProcessEnv = process.env): { args: string[]; files: { npmrc: string; npmca?: string }; cleanup(): void } {
  const get = (key: string) => {
    try {
      // --workspaces=false: in a workspace's folder npm would add --workspace, which `config` refuses.
      const value = execFileSync('npm', ['config', 'get', key, '--workspaces=false'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      return value === 'null' || value === 'undefined' ? '' : value;
    } catch {
      return '';
    }
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-npm-secret-'));
  const registry = get('registry');
  const cafile = [get('cafile'), env.NODE_EXTRA_CA_CERTS ?? ''].find((file) => file && existsSync(file)) ?? '';
  const lines = [`registry=${registry || 'https://registry.npmjs.org/'}`];
  const args: string[] = [];
  const hasCa = cafile !== '';
  if (hasCa) {
    lines.push('cafile=/run/secrets/npmca');
    args.push('--secret', `id=npmca,src=${cafile}`);
  }
  const npmrc = path.join(dir, 'npmrc');
  writeFileSync(npmrc, lines.join('\n') + '\n');
  args.push('--secret', `id=npmrc,src=${npmrc}`);
  return { args, files: { npmrc, npmca: hasCa ? cafile : undefined }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
