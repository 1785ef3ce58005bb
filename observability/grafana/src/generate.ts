// Writes observability/grafana/dashboards/<uid>.json from the TypeScript sources (npm run dashboards),
// and the same dashboards as Perses v0.52 Dashboard resources to observability/perses/dashboards/<uid>.json
// (converted from the Grafana JSON by perses.ts). The JSON files are what Grafana and Perses load and
// what is committed; tests/observability/dashboards.test.ts and perses-dashboards.test.ts check they
// equal a fresh generation, so edit the sources, never the JSON.
//
//   node observability/grafana/dist/src/generate.js [--out DIR] [--perses-out DIR] [--check]
//
// --out DIR         write the Grafana files there instead (the tests generate into a temporary folder)
// --perses-out DIR  write the Perses files there instead
//                   Without either option both committed folders are written; with one or both,
//                   only the outputs given (a test's temporary folder never touches the repository).
// --check           write nothing; exit 1 listing the files that differ from a fresh generation
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { render } from './grafana';
import { convert, renderPerses } from './perses';
import { dashboards } from './dashboards';

/** dist/src/generate.js → observability/grafana/dashboards */
const DEFAULT_OUT = path.resolve(__dirname, '..', '..', 'dashboards');
/** dist/src/generate.js → observability/perses/dashboards */
const DEFAULT_PERSES_OUT = path.resolve(__dirname, '..', '..', '..', 'perses', 'dashboards');

const USAGE = `usage: generate.js [--out DIR] [--perses-out DIR] [--check]
  writes the Grafana dashboards (observability/grafana/dashboards/<uid>.json) and the same
  dashboards for Perses v0.52 (observability/perses/dashboards/<uid>.json)
  --out DIR         the Grafana files there instead
  --perses-out DIR  the Perses files there instead
                    (with one or both given, only the outputs given are written or checked)
  --check           write nothing; exit 1 if a file in either folder differs from a fresh generation
`;

/** `<uid>.json`, checked: a uid Grafana and Perses both accept, once. */
function fileName(d: (typeof dashboards)[number], files: Map<string, string>): string {
  const uid = d.uid;
  if (typeof uid !== 'string' || !/^[a-z0-9-]+$/.test(uid)) throw new Error(`bad dashboard uid ${JSON.stringify(uid)}`);
  const name = `${uid}.json`;
  if (files.has(name)) throw new Error(`two dashboards with uid ${uid}`);
  return name;
}

export function generate(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of dashboards) files.set(fileName(d, files), render(d));
  return files;
}

/** The same dashboards as Perses Dashboard resources, converted from the Grafana JSON. */
export function generatePerses(): Map<string, string> {
  const files = new Map<string, string>();
  for (const d of dashboards) files.set(fileName(d, files), renderPerses(convert(d).dashboard));
  return files;
}

interface Output {
  what: string;
  dir: string;
  files: Map<string, string>;
}

function checkOutput({ dir, files }: Output): boolean {
  const existing = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  const wrong = [...files].filter(([name, text]) => !existing.includes(name) || readFileSync(path.join(dir, name), 'utf8') !== text).map(([n]) => n);
  const extra = existing.filter((f) => !files.has(f));
  for (const n of wrong) process.stderr.write(`${path.join(dir, n)}: differs from the generator's output\n`);
  for (const n of extra) process.stderr.write(`${path.join(dir, n)}: not produced by the generator\n`);
  return wrong.length === 0 && extra.length === 0;
}

function writeOutput({ what, dir, files }: Output): void {
  const existing = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  mkdirSync(dir, { recursive: true });
  // A renamed or removed dashboard must not linger as a stale file Grafana (or Perses) still loads.
  for (const f of existing) if (!files.has(f)) rmSync(path.join(dir, f));
  for (const [name, text] of files) writeFileSync(path.join(dir, name), text);
  process.stdout.write(`wrote ${files.size} ${what} to ${dir}: ${[...files.keys()].join(', ')}\n`);
}

function main(argv: string[]): number {
  let out: string | undefined;
  let persesOut: string | undefined;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = path.resolve(argv[++i]);
    else if (argv[i] === '--perses-out' && argv[i + 1]) persesOut = path.resolve(argv[++i]);
    else if (argv[i] === '--check') check = true;
    else {
      process.stderr.write(`${USAGE}unknown argument: ${argv[i]}\n`);
      return 2;
    }
  }
  const both = out === undefined && persesOut === undefined;
  const outputs: Output[] = [];
  if (both || out !== undefined) outputs.push({ what: 'dashboards', dir: out ?? DEFAULT_OUT, files: generate() });
  if (both || persesOut !== undefined) outputs.push({ what: 'Perses dashboards', dir: persesOut ?? DEFAULT_PERSES_OUT, files: generatePerses() });
  if (check) {
    // Every output is checked (and reported) before the verdict.
    const ok = outputs.map(checkOutput).every(Boolean);
    if (!ok) {
      process.stderr.write('run: npx tsc -b && npm run dashboards\n');
      return 1;
    }
    return 0;
  }
  for (const o of outputs) writeOutput(o);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
