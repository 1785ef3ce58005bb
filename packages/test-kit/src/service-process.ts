import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from './ports';

/** Repository root, from packages/test-kit/dist/src. */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

export interface ServiceSpec {
  /** Folder under services/, e.g. 'service-a'. */
  folder: string;
  /** OTEL_SERVICE_NAME and the name in logs. */
  name: string;
  env?: Record<string, string>;
  /** Path polled until it answers 200; default /ready. */
  readyPath?: string;
  /** Start the OpenTelemetry SDK (--require of the register module); default true. */
  telemetry?: boolean;
}

/**
 * One real service process, built output run exactly as in production, on a free loopback port.
 * Its stdout lines (pino JSON) are kept for assertions on logs.
 */
export class ServiceProcess {
  readonly lines: string[] = [];
  readonly stderr: string[] = [];
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  port = 0;

  constructor(readonly spec: ServiceSpec) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The process id, once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get exitCode(): number | null | undefined {
    return this.child?.exitCode;
  }

  async start(timeoutMs = 20_000): Promise<this> {
    this.port = this.spec.env?.PORT ? Number(this.spec.env.PORT) : await freePort();
    const main = path.join(REPO_ROOT, 'services', this.spec.folder, 'dist/src/main.js');
    const args = this.spec.telemetry === false ? [main] : ['--require', '@meridian/service-kit/register', main];
    this.child = spawn(process.execPath, args, {
      cwd: path.join(REPO_ROOT, 'services', this.spec.folder),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        HOST: '127.0.0.1',
        PORT: String(this.port),
        OTEL_SERVICE_NAME: this.spec.name,
        OTEL_TRACES_EXPORTER: 'none',
        LOG_LEVEL: 'info',
        ...this.spec.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => this.child!.once('exit', (code) => resolve(code)));
    collectLines(this.child.stdout!, this.lines);
    collectLines(this.child.stderr!, this.stderr);
    try {
      await this.waitReady(timeoutMs);
    } catch (err) {
      // A process that never turned ready is not left running (it would keep the test process alive).
      await this.stop('SIGKILL');
      throw err;
    }
    return this;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    const readyPath = this.spec.readyPath ?? '/ready';
    while (Date.now() < until) {
      if (this.child?.exitCode !== null) {
        throw new Error(`${this.spec.name} exited with ${this.child?.exitCode}: ${this.stderr.join('\n')}${this.lines.slice(-5).join('\n')}`);
      }
      try {
        const res = await fetch(this.url + readyPath, { signal: AbortSignal.timeout(1000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.spec.name} not ready at ${readyPath} within ${timeoutMs} ms: ${this.stderr.join('\n')}`);
  }

  /** Resolves with the exit code once the process has exited, or rejects after timeoutMs. */
  async waitExit(timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.spec.name} did not exit within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited!, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Parsed JSON log lines. */
  logs(): Record<string, unknown>[] {
    return this.lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Waits until a JSON log line matches, or fails after timeoutMs. */
  async waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs().find(match);
      if (line) return line;
      if (Date.now() > until) throw new Error(`${this.spec.name}: no matching log line within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    try {
      await this.waitExit(12_000);
    } catch {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString('utf8');
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    into.push(...parts.filter((p) => p.length > 0));
  });
}

/** Starts several services in order and stops them all, whatever happens. */
export async function withServices<T>(specs: ServiceSpec[], fn: (procs: ServiceProcess[]) => Promise<T>): Promise<T> {
  const procs: ServiceProcess[] = [];
  try {
    for (const spec of specs) procs.push(await new ServiceProcess(spec).start());
    return await fn(procs);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}
