// @ts-check
// Starts processes with prefixed output, waits for readiness, restarts what exits, stops all on signal.
import { spawn } from 'node:child_process';
import { formatLogLine } from './log-format.mjs';

const COLOURS = ['\x1b[34m', '\x1b[35m', '\x1b[36m', '\x1b[33m', '\x1b[32m', '\x1b[94m', '\x1b[95m', '\x1b[96m', '\x1b[93m', '\x1b[92m'];

/** @typedef {import('./services.mjs').ProcessSpec} ProcessSpec */

export class Supervisor {
  /** @param {{ colour: boolean, rawJson: boolean, width: number }} opts */
  constructor(opts) {
    this.opts = opts;
    /** @type {Map<string, { spec: ProcessSpec, child: import('node:child_process').ChildProcess | undefined, restarts: number, colour: string }>} */
    this.procs = new Map();
    this.stopping = false;
    /** @type {((name: string, code: number | null) => void) | undefined} */
    this.onUnexpectedExit = undefined;
  }

  /** @param {string} name @param {string} text */
  print(name, text) {
    const p = this.procs.get(name);
    const c = this.opts.colour && p ? p.colour : '';
    const r = this.opts.colour ? '\x1b[0m' : '';
    process.stdout.write(`${c}${name.padEnd(this.opts.width)}${r} │ ${text}\n`);
  }

  /** The pids of the processes running now. @returns {number[]} */
  pids() {
    return [...this.procs.values()].map((p) => p.child?.pid).filter((pid) => pid !== undefined && pid > 0);
  }

  /** @param {ProcessSpec} spec */
  start(spec) {
    const existing = this.procs.get(spec.name);
    const entry = existing ?? { spec, child: undefined, restarts: 0, colour: COLOURS[this.procs.size % COLOURS.length] };
    this.procs.set(spec.name, entry);
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream.on('data', (chunk) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) continue;
          const text = spec.json && !this.opts.rawJson ? formatLogLine(line, this.opts.colour) : line;
          if (text !== undefined) this.print(spec.name, text);
        }
      });
    }
    child.on('error', (err) => this.print(spec.name, `failed to start: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      this.print(spec.name, `exited (${signal ?? `code ${code}`})`);
      if (spec.restart) {
        entry.restarts += 1;
        // Back off like a kubelet would, so a crash loop does not spin a core.
        const delay = Math.min(1000 * 2 ** Math.min(entry.restarts - 1, 4), 16_000);
        this.print(spec.name, `restarting in ${delay / 1000} s (restart #${entry.restarts})`);
        setTimeout(() => !this.stopping && this.start(spec), delay).unref();
      } else {
        this.onUnexpectedExit?.(spec.name, code);
      }
    });
    return child;
  }

  /**
   * Polls each spec's readyUrl until 200; fails early when the process exits, or after timeoutMs.
   * @param {ProcessSpec} spec @param {number} timeoutMs
   */
  async waitReady(spec, timeoutMs) {
    const until = Date.now() + timeoutMs;
    const entry = this.procs.get(spec.name);
    while (Date.now() < until) {
      if (entry?.child?.exitCode !== null && entry?.child?.exitCode !== undefined) {
        throw new Error(`${spec.name} exited with code ${entry.child.exitCode} before it was ready`);
      }
      if (spec.ready) {
        if (await spec.ready()) return;
      } else {
        try {
          const res = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(1000) });
          if (res.status === 200) return;
        } catch {
          // not up yet
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${spec.name} was not ready at ${spec.readyUrl} within ${timeoutMs / 1000} s`);
  }

  /**
   * SIGTERM to every process, SIGKILL to those still running after graceMs. With `order` (groups of
   * names), group by group: the services before the pipeline, so their last spans still reach a
   * running collector. Processes in no group go last.
   * @param {string[][]} [order]
   */
  async stopAll(order = [], graceMs = 12_000) {
    this.stopping = true;
    const grouped = new Set(order.flat());
    const groups = [...order, [...this.procs.keys()].filter((name) => !grouped.has(name))];
    for (const names of groups) {
      const running = names
        .map((name) => this.procs.get(name))
        .filter((p) => p?.child && p.child.exitCode === null && p.child.signalCode === null);
      await Promise.all(
        running.map(
          (p) =>
            new Promise((resolve) => {
              const child = /** @type {import('node:child_process').ChildProcess} */ (p?.child);
              const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve(undefined);
              });
              child.kill('SIGTERM');
            }),
        ),
      );
    }
  }
}
