import path from 'node:path';
import { freePort, load, LoadResult, startProcess, stopProcess } from './load';
import type { Stack } from './bare-apps';

export interface StackFigures {
  stack: Stack;
  runs: LoadResult[];
  medianRps: number;
}

const BARE_APPS = path.join(__dirname, 'bare-apps.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Requests per second of the same route on each stack, alternating stacks round by round so that
 * drift in the machine's load affects every side alike.
 */
export async function compareStacks(stacks: Stack[], rounds: number, seconds: number): Promise<StackFigures[]> {
  const runs = new Map<Stack, LoadResult[]>(stacks.map((s) => [s, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const stack of round % 2 ? stacks : [...stacks].reverse()) {
      const port = await freePort();
      const child = await startProcess([BARE_APPS, stack, String(port)]);
      try {
        const url = `http://127.0.0.1:${port}/`;
        await load(url, 1); // warm-up: JIT and connection pool
        const r = await load(url, seconds);
        runs.get(stack)!.push(r);
        process.stdout.write(`  round ${round}/${rounds} ${stack.padEnd(13)} ${Math.round(r.rps)} req/s  p99 ${r.p99Ms} ms  generator ${r.generatorCores.toFixed(2)} cores\n`);
      } finally {
        await stopProcess(child);
      }
    }
  }
  return stacks.map((stack) => ({ stack, runs: runs.get(stack)!, medianRps: median(runs.get(stack)!.map((r) => r.rps)) }));
}
