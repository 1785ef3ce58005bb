import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePorts } from './ports';
import { REPO_ROOT } from './service-process';

/**
 * The real, pinned tools of scripts/tools/install.sh (otelcol, jaeger, prometheus, promtool,
 * alertmanager, amtool, k6, st, ...): found, run to completion with a bound, or started on free
 * loopback ports and waited for. A missing tool fails the test (never skips it).
 */

const HOST = '127.0.0.1';

/** The KEY=VALUE pins of scripts/tools/versions.env (tool versions, upstream image names). */
export function pinnedVersions(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path.join(REPO_ROOT, 'scripts/tools/versions.env'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z0-9_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );
}

/** Same lookup as scripts/tools/install.sh: ${MERIDIAN_TOOLS_DIR:-$HOME/.cache/meridian/tools}/bin. */
export function toolsBinDir(): string {
  return path.join(process.env.MERIDIAN_TOOLS_DIR || path.join(os.homedir(), '.cache', 'meridian', 'tools'), 'bin');
}

/** install.sh's argument for a binary, where it is not the binary's own name. */
const INSTALL_NAME: Record<string, string> = { st: 'schemathesis', 'docker-compose': 'compose' };

/** The path of a pinned tool; fails the test with the install command when it is missing. */
export function toolPath(name: string): string {
  const binDir = toolsBinDir();
  const file = path.join(binDir, name);
  if (!existsSync(file)) {
    assert.fail(
      `${name} not found at ${file}: run scripts/tools/install.sh ${INSTALL_NAME[name] ?? name} ` +
        `(it installs the pinned tools into ${binDir}; MERIDIAN_TOOLS_DIR overrides ~/.cache/meridian/tools)`,
    );
  }
  return file;
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  output: string;
  ms: number;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  /** The whole environment of the command (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** SIGTERM after this long (default 60 s) ... */
  timeoutMs?: number;
  /** ... then SIGKILL this much later (default 5 s; 0 sends SIGKILL at once). */
  graceMs?: number;
}

/** Runs a command to completion within a bound; never rejects on a non-zero exit. */
export function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  const { cwd, env = process.env, timeoutMs = 60_000, graceMs = 5_000 } = opts;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    let timedOut = false;
    // utf8 decoding across chunks: a multi-byte character may be split between two of them.
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      output += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      output += s;
    });
    const term = setTimeout(() => {
      timedOut = true;
      child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
    }, timeoutMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + graceMs);
    const done = (): void => {
      clearTimeout(term);
      clearTimeout(kill);
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (code, signal) => {
      done();
      resolve({ code, signal, stdout, stderr, output, ms: Date.now() - started, timedOut });
    });
  });
}

/** runCommand on a pinned tool (see toolPath). */
export function runTool(name: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return runCommand(toolPath(name), args, opts);
}

export interface WaitOptions {
  /** default 30 s */
  timeoutMs?: number;
  /** Accepts the answer; default: status 200. */
  check?: (status: number, body: string) => boolean;
}

/** A long-running process whose recent output is kept for failure messages. */
export interface ToolProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last 8000 characters of stdout and stderr. */
  output(): string;
  /** Polls `url` until `check` accepts the answer (its body is returned); fails if the process exits or time runs out. */
  waitForHttp(url: string, opts?: WaitOptions): Promise<string>;
  /** SIGTERM (or the signal given), SIGKILL if it is still there after 5 s. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Waited for (status 200) before start resolves; the process is stopped if it never answers. */
  readyUrl?: string;
  readyTimeoutMs?: number;
}

function spawnProcess(name: string, cmd: string, args: string[], opts: StartOptions): ToolProcess {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (s: string): void => {
    out = (out + s).slice(-8000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  // No orphan when the test process ends without its after() hooks (a crash, a cancelled run).
  const orphan = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', orphan);
  child.once('exit', () => process.off('exit', orphan));
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;

  return {
    name,
    child,
    output: () => out,
    async waitForHttp(url, { timeoutMs = 30_000, check = (status: number) => status === 200 }: WaitOptions = {}) {
      const deadline = Date.now() + timeoutMs;
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (exited()) assert.fail(`${name} exited with ${child.exitCode ?? child.signalCode} before ${url} answered:\n${out}`);
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
          const body = await res.text();
          last = `${res.status} ${body.slice(0, 300)}`;
          if (check(res.status, body)) return body;
        } catch (err) {
          last = String(err);
        }
        await delay(250);
      }
      assert.fail(`${name}: ${url} not ready within ${timeoutMs / 1000} s (last: ${last}):\n${out}`);
    },
    async stop(signal = 'SIGTERM') {
      if (exited()) return;
      const gone = once(child, 'exit');
      child.kill(signal);
      if ((await Promise.race([gone.then(() => 'exited' as const), delay(5_000).then(() => 'timeout' as const)])) === 'timeout') {
        child.kill('SIGKILL');
        await gone;
      }
    },
  };
}

/** Starts a command and, with opts.readyUrl, waits until it answers there. */
export async function startProcess(name: string, cmd: string, args: string[], opts: StartOptions = {}): Promise<ToolProcess> {
  const proc = spawnProcess(name, cmd, args, opts);
  if (opts.readyUrl) {
    try {
      await proc.waitForHttp(opts.readyUrl, { timeoutMs: opts.readyTimeoutMs });
    } catch (err) {
      await proc.stop();
      throw err;
    }
  }
  return proc;
}

/** startProcess on a pinned tool (see toolPath). */
export function startTool(name: string, args: string[], opts: StartOptions = {}): Promise<ToolProcess> {
  return startProcess(name, toolPath(name), args, opts);
}

/** Only what the tools need from the environment, so the caller's shell cannot change the config. */
const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' });

/**
 * Starts a tool whose files live in a new temporary folder: the folder is removed when the start
 * fails, and by the returned stop() after the process.
 */
async function startInTempDir(prefix: string, start: (dir: string) => Promise<ToolProcess>): Promise<{ proc: ToolProcess; dir: string; stop: (signal?: NodeJS.Signals) => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  let proc: ToolProcess;
  try {
    proc = await start(dir);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    proc,
    dir,
    async stop(signal) {
      await proc.stop(signal);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The collector with observability/collector/config.yaml

export interface CollectorPorts {
  grpc: number;
  http: number;
  edge: number;
  /** JAEGER_OTLP_ENDPOINT's port: nothing listens there unless the env says otherwise. */
  jaeger: number;
  prom: number;
  health: number;
  telemetry: number;
  /** LOGS_STORE_OTLP_ENDPOINT's port (VictoriaLogs): nothing listens there unless the env says otherwise. */
  logsStore: number;
}

export interface Collector {
  proc: ToolProcess;
  ports: CollectorPorts;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The real collector with the repo's config on free loopback ports (or `opts.ports`, to restart
 * it where the services already send; `opts.queueDir` keeps its sending queue across that restart),
 * healthy when this resolves. `env` overrides the defaults
 * (EDGE_OTLP_TOKEN=test-token, every endpoint on 127.0.0.1).
 */
export async function startCollector(
  env: Record<string, string> = {},
  opts: { ports?: CollectorPorts; readyTimeoutMs?: number; queueDir?: string } = {},
): Promise<Collector> {
  const [grpc, http, edge, jaeger, prom, health, telemetry, logsStore] = await freePorts(8);
  const ports = opts.ports ?? { grpc, http, edge, jaeger, prom, health, telemetry, logsStore };
  const { proc, stop } = await startInTempDir('meridian-otelcol-', (dir) =>
    startTool('otelcol', [`--config=${path.join(REPO_ROOT, 'observability/collector/config.yaml')}`], {
      cwd: dir,
      env: {
        ...baseEnv(),
        EDGE_OTLP_TOKEN: 'test-token',
        EDGE_OTLP_HOST: HOST,
        EDGE_OTLP_PORT: String(ports.edge),
        COLLECTOR_OTLP_GRPC_ENDPOINT: `${HOST}:${ports.grpc}`,
        COLLECTOR_OTLP_HTTP_ENDPOINT: `${HOST}:${ports.http}`,
        JAEGER_OTLP_ENDPOINT: `${HOST}:${ports.jaeger}`,
        PROM_EXPORTER_ENDPOINT: `${HOST}:${ports.prom}`,
        COLLECTOR_HEALTH_ENDPOINT: `${HOST}:${ports.health}`,
        COLLECTOR_TELEMETRY_HOST: HOST,
        COLLECTOR_TELEMETRY_PORT: String(ports.telemetry),
        LOGS_STORE_OTLP_ENDPOINT: `http://${HOST}:${ports.logsStore}/insert/opentelemetry`,
        // The on-disk sending queue: the caller's folder when it must outlive a restart.
        COLLECTOR_QUEUE_DIR: opts.queueDir ?? path.join(dir, 'queue'),
        ...env,
      },
      readyUrl: `http://${HOST}:${ports.health}/`,
      readyTimeoutMs: opts.readyTimeoutMs,
    }),
  );
  return { proc, ports, output: () => proc.output(), stop };
}

// ---------------------------------------------------------------------------------------------
// VictoriaLogs, the log store of the local run and compose

export interface LogsStore {
  proc: ToolProcess;
  port: number;
  /** e.g. `${url}/select/vmui/`, the UI. */
  url: string;
  /** LogsQL over the last hour: the matching log entries (its JSON lines, parsed). */
  query(logsql: string, limit?: number): Promise<Record<string, string>[]>;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Real VictoriaLogs on a free loopback port (or `port`), storing in a temporary folder that stop() removes. */
export async function startVictoriaLogs(opts: { port?: number; readyTimeoutMs?: number } = {}): Promise<LogsStore> {
  const port = opts.port ?? (await freePorts(1))[0];
  const url = `http://${HOST}:${port}`;
  const { proc, stop } = await startInTempDir('meridian-victorialogs-', (dir) =>
    startTool('victoria-logs', [`-httpListenAddr=${HOST}:${port}`, `-storageDataPath=${dir}`, '-retentionPeriod=1d', '-loggerLevel=WARN'], {
      env: baseEnv(),
      readyUrl: `${url}/health`,
      readyTimeoutMs: opts.readyTimeoutMs,
    }),
  );
  return { proc, port, url, query: (logsql, limit = 1000) => queryLogs(url, logsql, limit), output: () => proc.output(), stop };
}

/** LogsQL against a VictoriaLogs at `url` (its /select/logsql/query API, JSON lines out), over the last hour. */
export async function queryLogs(url: string, logsql: string, limit = 1000): Promise<Record<string, string>[]> {
  const body = new URLSearchParams({ query: logsql, limit: String(limit), start: '1h' });
  const res = await fetch(`${url}/select/logsql/query`, { method: 'POST', body, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  assert.equal(res.status, 200, `VictoriaLogs refused ${JSON.stringify(logsql)}: ${text.slice(0, 300)}`);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, string>);
}

// ---------------------------------------------------------------------------------------------
// Jaeger v2 with observability/jaeger/config.yaml

export interface JaegerPorts {
  queryHttp: number;
  queryGrpc: number;
  otlpGrpc: number;
  otlpHttp: number;
  health: number;
  metrics: number;
}

export interface Jaeger {
  proc: ToolProcess;
  ports: JaegerPorts;
  /** The query API and UI, e.g. `${url}/api/services`. */
  url: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Real Jaeger v2 with the repo's config on free loopback ports, healthy when this resolves.
 * `opts.badgerDir` stores traces there (observability/jaeger/badger.yaml) instead of in memory, so
 * they outlive a restart; `opts.ports` restarts it where the collector already sends.
 */
export async function startJaeger(
  env: Record<string, string> = {},
  opts: { readyTimeoutMs?: number; badgerDir?: string; ports?: JaegerPorts } = {},
): Promise<Jaeger> {
  const [queryHttp, queryGrpc, otlpGrpc, otlpHttp, health, metrics] = await freePorts(6);
  const ports = opts.ports ?? { queryHttp, queryGrpc, otlpGrpc, otlpHttp, health, metrics };
  const configs = ['config.yaml', ...(opts.badgerDir ? ['badger.yaml'] : [])].flatMap((f) => ['--config', path.join(REPO_ROOT, 'observability/jaeger', f)]);
  const proc = await startTool('jaeger', configs, {
    env: {
      ...baseEnv(),
      JAEGER_HOST: HOST,
      JAEGER_QUERY_HTTP_PORT: String(ports.queryHttp),
      JAEGER_QUERY_GRPC_PORT: String(ports.queryGrpc),
      JAEGER_OTLP_GRPC_PORT: String(ports.otlpGrpc),
      JAEGER_OTLP_HTTP_PORT: String(ports.otlpHttp),
      JAEGER_HEALTH_PORT: String(ports.health),
      JAEGER_METRICS_PORT: String(ports.metrics),
      JAEGER_LOG_LEVEL: 'warn',
      ...(opts.badgerDir ? { JAEGER_BADGER_DIR: opts.badgerDir } : {}),
      ...env,
    },
    readyUrl: `http://${HOST}:${ports.health}/status`,
    readyTimeoutMs: opts.readyTimeoutMs,
  });
  return { proc, ports, url: `http://${HOST}:${ports.queryHttp}`, output: () => proc.output(), stop: (signal) => proc.stop(signal) };
}
