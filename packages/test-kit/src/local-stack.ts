import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { REPO_ROOT } from './service-process';

/** Every port variable `npm start` honours; the tests move them all to free ports. */
export const LOCAL_STACK_PORT_VARS = [
  'SERVICE_A_PORT', 'SERVICE_B_PORT', 'EDGE_PORT', 'ENSEMBLE_PORT', 'EFFICIENTNETB0_PORT', 'MOBILENETV2_PORT',
  'COLLECTOR_GRPC_PORT', 'COLLECTOR_HTTP_PORT', 'COLLECTOR_EDGE_PORT', 'COLLECTOR_METRICS_PORT',
  'COLLECTOR_PROMETHEUS_PORT', 'COLLECTOR_HEALTH_PORT', 'EDGE_INGRESS_PORT', 'JAEGER_UI_PORT',
  'JAEGER_QUERY_GRPC_PORT', 'JAEGER_OTLP_GRPC_PORT', 'JAEGER_OTLP_HTTP_PORT', 'JAEGER_HEALTH_PORT',
  'JAEGER_METRICS_PORT', 'PROMETHEUS_PORT', 'ALERTMANAGER_PORT', 'VICTORIALOGS_PORT', 'CONSOLE_PORT', 'PERSES_PORT', 'ALERT_WEBHOOK_PORT',
] as const;

export interface StackSummary {
  readySeconds: number;
  /** RSS of every process npm start runs (and their children) when it turned ready, MiB. */
  rssMiB: number;
  /** Their PSS (shared pages counted once), MiB; null where the kernel gives no PSS. */
  pssMiB: number | null;
  processes: number;
  runDir: string;
  ports: Record<string, number>;
  urls: Record<string, string>;
  edgeOtlpToken: string;
  edgeIngressCert: string;
  /** VictoriaLogs, the log store (LogsQL at /select/logsql/query, its UI at /select/vmui/). */
  logsUrl: string;
  alertsFile: string;
  flagsFile?: string;
}

/**
 * The local stack exactly as `npm start` runs it (scripts/up.mjs), on free ports and in a temporary
 * run folder, so tests exercise what a user runs and two runs can coexist.
 */
export class LocalStack {
  readonly output: string[] = [];
  summary!: StackSummary;
  private child?: ChildProcess;
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-stack-'));

  static async start(extraEnv: Record<string, string> = {}, timeoutMs = 120_000): Promise<LocalStack> {
    const stack = new LocalStack();
    await stack.boot(extraEnv, timeoutMs);
    return stack;
  }

  url(name: string): string {
    const p = this.summary.ports;
    const h = 'http://127.0.0.1:';
    const known: Record<string, string> = {
      'service-a': h + p.serviceA,
      'service-b': h + p.serviceB,
      'preprocessing-edge': h + p.edge,
      'inference-ensemble': h + p.ensemble,
      jaeger: h + p.jaegerUi,
      prometheus: h + p.prometheus,
      alertmanager: h + p.alertmanager,
      victorialogs: h + p.victorialogs,
      console: h + p.console,
      'collector-metrics': h + p.collectorMetrics,
      'edge-ingress': `https://127.0.0.1:${p.edgeIngress}`,
    };
    if (!known[name]) throw new Error(`no URL for ${name}`);
    return known[name];
  }

  private async boot(extraEnv: Record<string, string>, timeoutMs: number): Promise<void> {
    const env: Record<string, string> = { ...(process.env as Record<string, string>), NO_COLOR: '1', MERIDIAN_RUN_DIR: path.join(this.dir, 'run') };
    const taken = new Set<number>();
    for (const name of LOCAL_STACK_PORT_VARS) {
      let p = await freePort();
      while (taken.has(p)) p = await freePort();
      taken.add(p);
      env[name] = String(p);
    }
    Object.assign(env, extraEnv);
    const summaryFile = path.join(this.dir, 'summary.json');
    this.child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/up.mjs'), '--no-ensure', '--summary', summaryFile], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a runner that hangs can be killed together with everything it started.
      detached: true,
    });
    for (const s of [this.child.stdout!, this.child.stderr!]) {
      // Whole lines only: a chunk may end in the middle of one, which is kept for the next chunk.
      let partial = '';
      s.on('data', (c: Buffer) => {
        const lines = (partial + c.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        this.output.push(...lines.filter(Boolean));
      });
      s.on('end', () => {
        if (partial) this.output.push(partial);
      });
    }
    const until = Date.now() + timeoutMs;
    while (!existsSync(summaryFile)) {
      if (this.child.exitCode !== null) throw new Error(`npm start exited with ${this.child.exitCode}${this.killLeftovers()}:\n${this.tail()}`);
      if (Date.now() > until) {
        await this.stop();
        throw new Error(`the stack was not ready within ${timeoutMs / 1000} s:\n${this.tail()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    this.summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as StackSummary;
    // The summary file is written before the ready message is printed: wait for that line too, so
    // a test that reads the output sees it.
    for (const until2 = Date.now() + 10_000; !this.output.some((l) => l.includes('Meridian is ready')); ) {
      if (this.child.exitCode !== null || Date.now() > until2) throw new Error(`npm start wrote its summary but printed no ready line:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * After the runner exited on its own: anything still in its process group is a process it failed
   * to stop. Kills those and removes the run folder; says so in the error, which a test can check.
   */
  private killLeftovers(): string {
    let left = false;
    try {
      process.kill(-this.child!.pid!, 'SIGKILL');
      left = true;
    } catch {
      // ESRCH: the group is empty, as it should be.
    }
    rmSync(this.dir, { recursive: true, force: true });
    return left ? ' and left processes running (killed now)' : '';
  }

  tail(n = 40): string {
    return this.output.slice(-n).join('\n');
  }

  /** Ctrl-C, as a user would; resolves with the runner's exit code. */
  async stop(timeoutMs = 40_000): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    rmSync(this.dir, { recursive: true, force: true });
    return code;
  }
}
