// @ts-check
// `node scripts/ensure.mjs`: install, build and generate models; `--models` only regenerates models.
import { ensureAll, ensureModels } from './lib/ensure.mjs';

if (process.argv.includes('--models')) ensureModels();
else await ensureAll();
