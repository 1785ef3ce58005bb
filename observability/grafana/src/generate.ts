// Writes observability/grafana/dashboards/<uid>.json from the TypeScript sources (npm run dashboards).
// The JSON files are what Grafana loads and what is committed; tests/observability/dashboards.test.ts
// checks they equal a fresh generation, so edit the sources, never the JSON.
//
//   node observability/grafana/dist/src/generate.js [--out DIR] [--check]
//
// --out DIR  write there instead (the test generates into a temporary folder)
// --check    write nothing; exit 1 listing the files that differ from a fresh generation
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { render } from './grafana';
import { dashboards } from './dashboards';

/** dist/src/generate.js → observability/grafana/dashboards */
const DEFAULT_OUT = path.resolve(__dirname, '..', '..', 'dashboards');

export function generate(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of dashboards) {
    const uid = d.uid;
    if (typeof uid !== 'string' || !/^[a-z0-9-]+$/.test(uid)) throw new Error(`bad dashboard uid ${JSON.stringify(uid)}`);
    const name = `${uid}.json`;
    if (files.has(name)) throw new Error(`two dashboards with uid ${uid}`);
    files.set(name, render(d));
  }
  return files;
}

function main(argv: string[]): number {
  let out = DEFAULT_OUT;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else if (argv[i] === '--check') check = true;
    else {
      process.stderr.write(`usage: generate.js [--out DIR] [--check]\nunknown argument: ${argv[i]}\n`);
      return 2;
    }
  }
  const files = generate();
  const existing = existsSync(out) ? readdirSync(out).filter((f) => f.endsWith('.json')) : [];
  if (check) {
    const wrong = [...files].filter(([name, text]) => !existing.includes(name) || readFileSync(path.join(out, name), 'utf8') !== text).map(([n]) => n);
    const extra = existing.filter((f) => !files.has(f));
    for (const n of wrong) process.stderr.write(`${path.join(out, n)}: differs from the generator's output\n`);
    for (const n of extra) process.stderr.write(`${path.join(out, n)}: not produced by the generator\n`);
    if (wrong.length || extra.length) {
      process.stderr.write('run: npx tsc -b && npm run dashboards\n');
      return 1;
    }
    return 0;
  }
  mkdirSync(out, { recursive: true });
  // A renamed or removed dashboard must not linger as a stale file Grafana still loads.
  for (const f of existing) if (!files.has(f)) rmSync(path.join(out, f));
  for (const [name, text] of files) writeFileSync(path.join(out, name), text);
  process.stdout.write(`wrote ${files.size} dashboards to ${out}: ${[...files.keys()].join(', ')}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
