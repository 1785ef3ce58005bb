/**
 * `npm run bench`: each comparison runs its sides alternately in one run on this machine; the
 * ratios are what matter, absolute figures are printed for context only.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareStacks } from './adapters';

const RESULTS = path.resolve(__dirname, '../../results');

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rounds = quick ? 2 : 3;
  const seconds = quick ? 3 : 8;
  process.stdout.write(`HTTP stacks: GET / with the same JSON body, telemetry off (${rounds} rounds × ${seconds} s each)\n`);
  const stacks = await compareStacks(['nest-fastify', 'nest-express', 'node-http'], rounds, seconds);
  const rps = Object.fromEntries(stacks.map((s) => [s.stack, s.medianRps]));
  const ratios = {
    fastifyOverExpress: rps['nest-fastify'] / rps['nest-express'],
    nestFastifyOverBare: rps['nest-fastify'] / rps['node-http'],
    nestExpressOverBare: rps['nest-express'] / rps['node-http'],
  };
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    stacks,
    ratios,
  };
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
  const table = [
    '| comparison | ratio | figures (median req/s) |',
    '|---|---|---|',
    `| NestJS on Fastify / NestJS on Express | ${ratios.fastifyOverExpress.toFixed(2)} | ${Math.round(rps['nest-fastify'])} / ${Math.round(rps['nest-express'])} |`,
    `| NestJS on Fastify / bare node:http | ${ratios.nestFastifyOverBare.toFixed(2)} | ${Math.round(rps['nest-fastify'])} / ${Math.round(rps['node-http'])} |`,
    `| NestJS on Express / bare node:http | ${ratios.nestExpressOverBare.toFixed(2)} | ${Math.round(rps['nest-express'])} / ${Math.round(rps['node-http'])} |`,
  ].join('\n');
  const md = `Measured ${result.date.slice(0, 10)} on ${result.machine.cpus} × ${result.machine.model}, Node ${process.version}; load generator (autocannon) on the same machine.\n\n${table}\n`;
  writeFileSync(path.join(RESULTS, 'latest.md'), md);
  process.stdout.write(`\n${md}`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
