import path from 'node:path';

/** Repository root, from bench/dist/src. */
export const ROOT = path.resolve(__dirname, '../../..');
export const RESULTS_DIR = path.join(ROOT, 'bench/results');
export const DOCS_FILE = path.join(ROOT, 'docs/benchmarks.md');
