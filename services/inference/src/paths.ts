import path from 'node:path';

/** services/inference, from dist/src (no side effects, so tests may import it). */
export const SERVICE_DIR = path.resolve(__dirname, '../..');
