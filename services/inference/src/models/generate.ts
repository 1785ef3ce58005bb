import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildEfficientNetB0 } from './efficientnetb0';
import { buildMobileNetV2 } from './mobilenetv2';
import { NetBuilder, INPUT_NAME, INPUT_SHAPE, NUM_CLASSES, OUTPUT_NAME } from './net-builder';
import { IR_VERSION, OPSET_VERSION, encodeModel } from './onnx';

/** Bump when the generated graphs or weights change; existing files are then regenerated. */
export const GENERATOR_VERSION = 1;
export const DEFAULT_SEED = 42;

export const MODEL_NAMES = ['efficientnetb0', 'mobilenetv2'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

const BUILDERS: Record<ModelName, (seed: number) => NetBuilder> = {
  efficientnetb0: buildEfficientNetB0,
  mobilenetv2: buildMobileNetV2,
};

const TITLES: Record<ModelName, string> = {
  efficientnetb0: 'EfficientNet-B0',
  mobilenetv2: 'MobileNetV2 1.0',
};

/** The `.json` written next to each generated `.onnx`. */
export interface Sidecar {
  model: ModelName;
  generator: 'meridian-inference';
  generatorVersion: number;
  seed: number;
  untrained: true;
  params: number;
  bytes: number;
  sha256: string;
  irVersion: number;
  opset: number;
  input: { name: string; shape: number[] };
  output: { name: string; shape: number[] };
}

export interface GeneratedModel {
  model: ModelName;
  path: string;
  bytes: number;
  params: number;
  /** True when the file was already there for this generator version and seed. */
  skipped: boolean;
  ms: number;
}

export interface GenerateOptions {
  dir: string;
  seed?: number;
  /** Regenerate even when up to date. */
  force?: boolean;
  models?: readonly ModelName[];
  log?: (line: string) => void;
}

export function modelFile(dir: string, model: ModelName): string {
  return path.join(dir, `${model}.onnx`);
}

export function sidecarFile(onnxPath: string): string {
  return onnxPath.replace(/\.onnx$/, '') + '.json';
}

/** The sidecar of a generated model, or undefined when there is none (e.g. a pretrained file). */
export function readSidecar(onnxPath: string): Sidecar | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(sidecarFile(onnxPath), 'utf8')) as Sidecar;
    return s.generator === 'meridian-inference' ? s : undefined;
  } catch {
    return undefined;
  }
}

function upToDate(onnxPath: string, seed: number): Sidecar | undefined {
  const s = readSidecar(onnxPath);
  if (!s || s.generatorVersion !== GENERATOR_VERSION || s.seed !== seed) return undefined;
  try {
    // A truncated or replaced file does not match the size recorded when it was written.
    return fs.statSync(onnxPath).size === s.bytes ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes through a temporary file and a rename, so a concurrent reader never sees half a file. */
function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export function generateModel(model: ModelName, seed: number): { bytes: Buffer; params: number } {
  const net = BUILDERS[model](seed);
  const doc = `${TITLES[model]} architecture with seeded random weights (seed ${seed}); untrained, its predictions mean nothing.`;
  const bytes = encodeModel({
    graph: net.graph(doc),
    producerName: 'meridian-inference-generator',
    producerVersion: String(GENERATOR_VERSION),
    docString: doc,
    metadata: { seed: String(seed), untrained: 'true', architecture: TITLES[model] },
  });
  return { bytes, params: net.params };
}

/** Generates the ONNX graphs into dir; files already generated with this version and seed are kept. */
export function generateModels(options: GenerateOptions): GeneratedModel[] {
  const seed = options.seed ?? DEFAULT_SEED;
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(options.dir, { recursive: true });
  const results: GeneratedModel[] = [];
  for (const model of options.models ?? MODEL_NAMES) {
    const started = Date.now();
    const file = modelFile(options.dir, model);
    const existing = options.force ? undefined : upToDate(file, seed);
    if (existing) {
      log(`${model}: up to date (${file}, ${mb(existing.bytes)}, generator v${GENERATOR_VERSION}, seed ${seed})`);
      results.push({ model, path: file, bytes: existing.bytes, params: existing.params, skipped: true, ms: Date.now() - started });
      continue;
    }
    log(`${model}: generating (seed ${seed}) ...`);
    const { bytes, params } = generateModel(model, seed);
    writeAtomic(file, bytes);
    const sidecar: Sidecar = {
      model,
      generator: 'meridian-inference',
      generatorVersion: GENERATOR_VERSION,
      seed,
      untrained: true,
      params,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      irVersion: IR_VERSION,
      opset: OPSET_VERSION,
      input: { name: INPUT_NAME, shape: [...INPUT_SHAPE] },
      output: { name: OUTPUT_NAME, shape: [1, NUM_CLASSES] },
    };
    writeAtomic(sidecarFile(file), JSON.stringify(sidecar, null, 2) + '\n');
    const ms = Date.now() - started;
    log(`${model}: wrote ${file} (${(params / 1e6).toFixed(2)}M params, ${mb(bytes.length)}) in ${ms} ms`);
    results.push({ model, path: file, bytes: bytes.length, params, skipped: false, ms });
  }
  return results;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** services/inference/models/generated, from dist/src/models or src/models. */
export const DEFAULT_MODEL_DIR = path.resolve(__dirname, __dirname.includes(`${path.sep}dist${path.sep}`) ? '../../../models/generated' : '../../models/generated');
