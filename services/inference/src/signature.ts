import type { InferenceSession } from 'onnxruntime-node';
import { NUM_CLASSES } from './labels';
import { TENSOR_SHAPE } from './tensor';

/** Checks that the graph takes one float tensor compatible with 1×3×224×224 and gives 1000 classes. */
export function checkSignature(session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>): string | undefined {
  if (session.inputMetadata.length !== 1) return `the model must have exactly one input, it has ${session.inputMetadata.length}`;
  const input = session.inputMetadata[0];
  if (!input.isTensor || input.type !== 'float32') return `input ${input.name} must be a float32 tensor`;
  // Symbolic (named or negative) dimensions accept any size; fixed ones must match.
  const fits = input.shape.length === 0 || (input.shape.length === 4 && input.shape.every((d, i) => typeof d !== 'number' || d <= 0 || d === TENSOR_SHAPE[i]));
  if (!fits) return `input ${input.name} has shape [${input.shape.join(',')}], expected [${TENSOR_SHAPE.join(',')}]`;
  const output = session.outputMetadata[0];
  if (!output?.isTensor) return 'the model must have a tensor output';
  const fixed = output.shape.filter((d): d is number => typeof d === 'number' && d > 0);
  if (output.shape.length > 0 && !fixed.includes(NUM_CLASSES)) return `output ${output.name} has shape [${output.shape.join(',')}], expected ${NUM_CLASSES} classes`;
  return undefined;
}
