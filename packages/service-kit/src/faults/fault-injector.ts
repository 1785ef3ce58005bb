import { readFile } from 'node:fs/promises';
import { Logger } from '@nestjs/common';
import { OpenFeature, type Client, type Logger as OpenFeatureLogger } from '@openfeature/server-sdk';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { problem, sendProblem } from '../problem';
import type { ReadinessRegistry } from '../readiness';
import { isUnfaultedPath } from '../telemetry/untraced-paths';
import {
  describeFault,
  FAULT_NAMES,
  FaultName,
  FaultSettings,
  FLAG_SPECS,
  flagKey,
  NO_FAULTS,
  requestedFaults,
  UNSAFE_FAULTS,
} from './definitions';
import { FlagFileProvider } from './flag-file-provider';
import { faultState, markFault, publishFaultState } from './state';

export interface FaultInjectorOptions {
  serviceName: string;
  /** flagd-format JSON file, evaluated in-process by flagd's engine (flag-file-provider.ts). */
  flagsFile: string;
  /** Re-read period; 0 = the default, every 5 s. */
  pollMs: number;
  unsafeEnabled: boolean;
  memoryMaxMb: number;
}

const DOMAIN = 'meridian-faults';
const DEFAULT_POLL_MS = 5000;
/** The CPU hog works in slices: in each slice it spins for `share` of it, then yields. */
const CPU_SLICE_MS = 100;
const MEMORY_TICK_MS = 250;

/**
 * Drives the faults of one service from the flag file: keeps the settings in memory (re-read
 * whenever the file changes), applies the process-wide ones (crash, CPU hog, memory growth,
 * readiness) and, through a Fastify hook, the per-request ones (latency, errors). Health, readiness,
 * metrics and the OpenAPI document are never delayed or failed.
 */
export class FaultInjector {
  private readonly logger = new Logger('Faults');
  private client?: Client;
  private pollTimer?: NodeJS.Timeout;
  private cpuTimer?: NodeJS.Timeout;
  private memoryTimer?: NodeJS.Timeout;
  private memory: Buffer[] = [];
  private memoryBytes = 0;
  private memoryCapLogged = false;
  private lastContent?: string;
  private reloading: Promise<void> = Promise.resolve();
  private warnedUnsafe = new Set<FaultName>();
  private stopped = false;

  constructor(private readonly options: FaultInjectorOptions) {}

  /** Reads the flag file once (a missing or invalid file fails the start) and starts watching it. */
  async start(): Promise<void> {
    OpenFeature.setLogger(this.openFeatureLogger());
    this.lastContent = await this.readFlagFile();
    await OpenFeature.setProviderAndWait(DOMAIN, this.newProvider(this.lastContent));
    this.client = OpenFeature.getClient(DOMAIN);
    await this.evaluate();
    const pollMs = this.options.pollMs || DEFAULT_POLL_MS;
    this.pollTimer = setInterval(() => this.queue(() => this.poll()), pollMs);
    this.pollTimer.unref();
    this.logger.log(`fault flags from ${this.options.flagsFile} (re-read every ${pollMs} ms; unsafe faults ${this.options.unsafeEnabled ? 'enabled' : 'disabled'})`);
  }

  /** Stops every fault and the provider; called on shutdown. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    this.apply({ ...NO_FAULTS });
    await OpenFeature.close().catch(() => undefined);
  }

  /**
   * The readiness check of the readiness-fail fault. A process whose crash fault is on exits
   * within 50 ms, and must never answer ready in between: found at start (the flag still on after
   * a restart), the server may be listening before the exit.
   */
  readinessCheck = async (): Promise<void> => {
    if (faultState.active['readiness-fail']) throw new Error(`readiness-fail fault is on (flag ${flagKey(this.options.serviceName, 'readiness-fail')})`);
    if (faultState.active.crash) throw new Error(`crash fault is on (flag ${flagKey(this.options.serviceName, 'crash')}): exiting`);
  };

  /** Latency and error faults on every request except the probes and the OpenAPI document. */
  install(fastify: FastifyInstance, readiness: ReadinessRegistry): void {
    readiness.add('fault', this.readinessCheck);
    fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      if (isUnfaultedPath(request.url)) return;
      const { active, settings } = faultState;
      if (active['cpu-hog']) markFault('cpu-hog', settings.cpuHog);
      if (active['memory-growth']) markFault('memory-growth', settings.memoryGrowthMbPerS);
      if (active.latency && Math.random() < settings.latencyShare) {
        markFault('latency', settings.latencyMs);
        await new Promise((resolve) => setTimeout(resolve, settings.latencyMs));
      }
      if (active.error && Math.random() < settings.errorShare) {
        markFault('error');
        sendProblem(reply, request, problem(500, 'A fault injected on purpose (error-share flag).', 'injected-fault'));
        return reply;
      }
    });
  }

  private queue(fn: () => Promise<void>): void {
    this.reloading = this.reloading.then(fn).catch((err: unknown) => this.logger.warn(`fault flags: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async readFlagFile(): Promise<string> {
    try {
      return await readFile(this.options.flagsFile, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`cannot read FLAGS_FILE ${this.options.flagsFile}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(err))}`);
    }
  }

  /** Throws when the content is not a flagd flag configuration. */
  private newProvider(content: string): FlagFileProvider {
    return new FlagFileProvider(content, this.openFeatureLogger());
  }

  /**
   * Re-reads the file every pollMs and, when its content changed, loads it into a fresh provider.
   * A file that does not parse (a half-written edit) leaves the faults in force as they were.
   */
  private async poll(): Promise<void> {
    if (this.stopped) return;
    let content: string;
    try {
      content = await readFile(this.options.flagsFile, 'utf8');
    } catch (err) {
      if (this.lastContent !== '') this.logger.warn(`cannot read ${this.options.flagsFile} (${(err as NodeJS.ErrnoException).code}); keeping the faults in force`);
      this.lastContent = '';
      return;
    }
    if (content === this.lastContent) return;
    this.lastContent = content;
    try {
      JSON.parse(content);
    } catch {
      this.logger.warn(`${this.options.flagsFile} is not valid JSON; keeping the faults in force`);
      return;
    }
    try {
      await OpenFeature.setProviderAndWait(DOMAIN, this.newProvider(content));
    } catch (err) {
      this.logger.warn(`${this.options.flagsFile} was refused by flagd's engine (${err instanceof Error ? err.message : String(err)}); keeping the faults in force`);
      return;
    }
    await this.evaluate();
  }

  private async evaluate(): Promise<void> {
    if (this.stopped || !this.client) return;
    const settings: FaultSettings = { ...NO_FAULTS };
    const out = settings as unknown as Record<string, number | boolean>;
    for (const spec of FLAG_SPECS) {
      const key = flagKey(this.options.serviceName, spec.suffix);
      if (spec.type === 'number') {
        const d = await this.client.getNumberDetails(key, NO_FAULTS[spec.field]);
        if (d.errorCode && d.errorCode !== 'FLAG_NOT_FOUND') this.logger.warn(`flag ${key}: ${d.errorCode} (${d.errorMessage ?? ''}); using ${d.value}`);
        const v = Number.isFinite(d.value) ? d.value : NO_FAULTS[spec.field];
        out[spec.field] = Math.min(spec.max, Math.max(spec.min, v));
      } else {
        const d = await this.client.getBooleanDetails(key, NO_FAULTS[spec.field]);
        if (d.errorCode && d.errorCode !== 'FLAG_NOT_FOUND') this.logger.warn(`flag ${key}: ${d.errorCode} (${d.errorMessage ?? ''}); using ${d.value}`);
        out[spec.field] = d.value;
      }
    }
    this.apply(settings);
  }

  private apply(settings: FaultSettings): void {
    const requested = requestedFaults(settings);
    const active = { ...requested };
    for (const name of UNSAFE_FAULTS) {
      if (requested[name] && !this.options.unsafeEnabled) {
        active[name] = false;
        if (!this.warnedUnsafe.has(name)) {
          this.logger.warn(`fault ${name} is on in the flag file but unsafe faults are disabled (FAULTS_UNSAFE_ENABLED=false); ignoring it`);
          this.warnedUnsafe.add(name);
        }
      } else if (!requested[name]) {
        this.warnedUnsafe.delete(name);
      }
    }
    const before = faultState.active;
    const beforeSettings = faultState.settings;
    faultState.settings = settings;
    faultState.active = active;
    publishFaultState();
    for (const name of FAULT_NAMES) {
      if (active[name] && (!before[name] || describeFault(name, beforeSettings) !== describeFault(name, settings))) {
        this.logger.warn({ fault: name }, `fault ${name} on: ${describeFault(name, settings)}`);
      } else if (!active[name] && before[name]) {
        this.logger.warn({ fault: name }, `fault ${name} off`);
      }
    }
    this.applyCpuHog(active['cpu-hog'] ? settings.cpuHog : 0);
    this.applyMemoryGrowth(active['memory-growth'] ? settings.memoryGrowthMbPerS : 0);
    if (active.crash) this.crash();
  }

  private applyCpuHog(share: number): void {
    clearInterval(this.cpuTimer);
    this.cpuTimer = undefined;
    if (share <= 0) return;
    const busyMs = share * CPU_SLICE_MS;
    this.cpuTimer = setInterval(() => {
      // Counts CPU time, not wall time, so the hog takes its share even on a busy machine; the
      // wall-time cap keeps the event loop turning when the machine cannot give that much.
      const cpuStart = process.cpuUsage();
      const wallEnd = performance.now() + 2 * busyMs;
      const cpuMs = () => {
        const d = process.cpuUsage(cpuStart);
        return (d.user + d.system) / 1000;
      };
      // Deliberately blocks the event loop: that is what a CPU-bound bug does to a Node service.
      while (cpuMs() < busyMs && performance.now() < wallEnd);
    }, CPU_SLICE_MS);
    this.cpuTimer.unref();
  }

  private applyMemoryGrowth(mbPerS: number): void {
    clearInterval(this.memoryTimer);
    this.memoryTimer = undefined;
    if (mbPerS <= 0) {
      // Dropping the references lets the next GC return the memory.
      this.memory = [];
      this.memoryBytes = 0;
      this.memoryCapLogged = false;
      return;
    }
    const cap = this.options.memoryMaxMb * 1024 * 1024;
    const chunk = Math.max(1, Math.round((mbPerS * 1024 * 1024 * MEMORY_TICK_MS) / 1000));
    this.memoryTimer = setInterval(() => {
      if (this.memoryBytes + chunk > cap) {
        if (!this.memoryCapLogged) this.logger.warn(`memory-growth fault reached FAULT_MEMORY_MAX_MB (${this.options.memoryMaxMb} MiB); holding`);
        this.memoryCapLogged = true;
        return;
      }
      // Filled, so the pages are really resident rather than reserved.
      this.memory.push(Buffer.alloc(chunk, 1));
      this.memoryBytes += chunk;
    }, MEMORY_TICK_MS);
    this.memoryTimer.unref();
  }

  private crash(): void {
    this.logger.error({ fault: 'crash' }, `crash fault: ${this.options.serviceName} exits now (flag ${flagKey(this.options.serviceName, 'crash')})`);
    // A short pause so the log line reaches stdout; no graceful shutdown: this is a crash.
    setTimeout(() => process.exit(1), 50);
  }

  private openFeatureLogger(): OpenFeatureLogger {
    const text = (args: unknown[]) => args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    return {
      error: (...args: unknown[]) => this.logger.warn(`openfeature: ${text(args)}`),
      warn: (...args: unknown[]) => this.logger.warn(`openfeature: ${text(args)}`),
      info: () => undefined,
      debug: () => undefined,
    };
  }
}
