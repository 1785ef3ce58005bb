import fs from 'node:fs';
import path from 'node:path';
import { SERVICE_DIR } from './paths';

export const NUM_CLASSES = 1000;

/** ImageNet class names in output order (data/README.md says where they come from). */
export function loadLabels(file = path.join(SERVICE_DIR, 'data/imagenet-classes.json')): string[] {
  const labels = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(labels) || labels.length !== NUM_CLASSES || !labels.every((l) => typeof l === 'string')) {
    throw new Error(`${file} must be a JSON array of ${NUM_CLASSES} strings`);
  }
  return labels;
}
