/**
 * Processes the benchmarks start, and what /proc says about them. Every child is registered so that
 * an error or Ctrl-C stops all of them (stopAll), never leaving a service or collector behind.
 */
import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

const live = new Set<Tracked>();

export interface Tracked {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Last lines of stderr (and stdout when not ignored), for error messages. */
  tail: string[];
  /** Whether the process should be stopped through its process group (it starts its own children). */
  group: boolean;
  exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Distinct free ports (freePort alone can hand out the same port twice in a row). */
export async function freePorts(n: number): Promise<number[]> {
  const out = new Set<number>();
  while (out.size < n) out.add(await freePort());
  return [...out];
}

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Keep stdout (tail) instead of discarding it; services' per-request log lines are discarded. */
  keepStdout?: boolean;
  /** Own process group, stopped as a whole (for runners that start children). */
  group?: boolean;
  /** Only `env`, not this process's environment. */
  clean?: boolean;
}

export function start(name: string, command: string, args: string[], opts: StartOptions = {}): Tracked {
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd,
    env: opts.clean ? opts.env : { ...process.env, ...opts.env },
    // Services log one JSON line per request; reading them would cost the bench process CPU.
    stdio: ['ignore', opts.keepStdout ? 'pipe' : 'ignore', 'pipe'],
    detached: opts.group ?? false,
  };
  const child = spawn(command, args, spawnOpts);
  const tail: string[] = [];
  const keep = (c: Buffer) => {
    tail.push(...c.toString('utf8').split('\n').filter(Boolean));
    if (tail.length > 60) tail.splice(0, tail.length - 60);
  };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      tail.push(`failed to start: ${err.message}`);
      resolve(-1);
    });
  });
  const t: Tracked = { name, child, pid: child.pid ?? -1, tail, group: opts.group ?? false, exited };
  live.add(t);
  void exited.then(() => live.delete(t));
  return t;
}

export function isRunning(t: Tracked): boolean {
  return t.child.exitCode === null && t.child.signalCode === null && t.pid > 0;
}

function signal(t: Tracked, sig: NodeJS.Signals): void {
  try {
    if (t.group) process.kill(-t.pid, sig);
    else t.child.kill(sig);
  } catch {
    // already gone
  }
}

/** SIGTERM (or the given signal), then SIGKILL after graceMs. */
export async function stop(t: Tracked, graceMs = 8000, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isRunning(t)) {
    if (t.group) signal(t, 'SIGKILL'); // children the runner may have left
    return;
  }
  signal(t, sig);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([t.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
  clearTimeout(timer);
  if (isRunning(t)) {
    signal(t, 'SIGKILL');
    await t.exited;
  }
  if (t.group) signal(t, 'SIGKILL');
}

/** Stops every process still running, in reverse start order (callers before what they call). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].reverse().map((t) => stop(t, 5000)));
}

export function stopAllSync(): void {
  for (const t of live) signal(t, 'SIGKILL');
}

export function failure(t: Tracked, what: string): Error {
  return new Error(`${t.name} ${what} (exit ${t.child.exitCode ?? t.child.signalCode ?? 'none'}):\n  ${t.tail.slice(-15).join('\n  ')}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export { sleep };

/** Polls url until it answers 200; resolves with the milliseconds since `since` (performance.now()). */
export async function waitReady(t: Tracked, url: string, since: number, timeoutMs = 60_000, everyMs = 20): Promise<number> {
  const until = since + timeoutMs;
  for (;;) {
    if (!isRunning(t)) throw failure(t, `exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (performance.now() > until) throw failure(t, `not ready at ${url} within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

// ---- /proc ------------------------------------------------------------------------------------

/** utime + stime of one process, in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks). */
export function cpuSeconds(pid: number, ticksPerSecond = 100): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields are counted after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

// Resident set size in MiB: one definition, shared with the tests (test-kit).
import { pssMiB, rssMiB } from '@meridian/test-kit';
export { pssMiB, rssMiB };

/** Every descendant of pid (children, their children, ...), from the parent ids in /proc/<pid>/stat. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parent.get(ppid) ?? [];
      list.push(Number(name));
      parent.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parent.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

export function environ(pid: number, key: string): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((l) => l.startsWith(`${key}=`));
    return line?.slice(key.length + 1);
  } catch {
    return undefined;
  }
}

/** CPU used by a set of processes between start() and stop(), in cores (CPU seconds per wall second). */
export class CpuWindow {
  private readonly t0 = performance.now();
  private readonly c0: number[];
  constructor(private readonly pids: number[]) {
    this.c0 = pids.map((p) => cpuSeconds(p));
  }
  cores(): number {
    const wall = (performance.now() - this.t0) / 1000;
    const used = this.pids.reduce((sum, p, i) => sum + (cpuSeconds(p) - this.c0[i]), 0);
    return used / wall;
  }
}

/** Samples RSS of named processes every intervalMs and keeps the peak of each. */
export class RssSampler {
  readonly peak = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  constructor(
    private readonly pids: Map<string, number[]>,
    intervalMs = 250,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }
  private sample(): void {
    let total = 0;
    for (const [name, pids] of this.pids) {
      const rss = pids.reduce((s, p) => s + (rssMiB(p) || 0), 0);
      total += rss;
      this.peak.set(name, Math.max(this.peak.get(name) ?? 0, rss));
    }
    this.peak.set('(total)', Math.max(this.peak.get('(total)') ?? 0, total));
  }
  stop(): Map<string, number> {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
