import { DEFAULT_MODEL_DIR, DEFAULT_SEED, generateModels } from './generate';

/**
 * Writes the generated ONNX graphs (default: services/inference/models/generated).
 *   node dist/src/models/generate-cli.js [--dir DIR] [--seed N] [--force]
 * MODEL_DIR and MODEL_SEED are read when the flags are absent.
 */
function main(argv: string[]): number {
  let dir = process.env.MODEL_DIR || DEFAULT_MODEL_DIR;
  let seed = process.env.MODEL_SEED ? Number(process.env.MODEL_SEED) : DEFAULT_SEED;
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--dir') dir = argv[++i] ?? '';
    else if (arg === '--seed') seed = Number(argv[++i]);
    else if (arg === '--force') force = true;
    else {
      process.stderr.write(`generate-cli: unknown argument ${arg}; usage: generate-cli [--dir DIR] [--seed N] [--force]\n`);
      return 2;
    }
  }
  if (!dir) {
    process.stderr.write('generate-cli: --dir needs a folder\n');
    return 2;
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    process.stderr.write('generate-cli: the seed must be an integer from 0 to 4294967295\n');
    return 2;
  }
  const started = Date.now();
  const results = generateModels({ dir, seed, force, log: (line) => process.stdout.write(line + '\n') });
  const written = results.filter((r) => !r.skipped).length;
  process.stdout.write(`models: ${written} generated, ${results.length - written} up to date, in ${Date.now() - started} ms (${dir})\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
