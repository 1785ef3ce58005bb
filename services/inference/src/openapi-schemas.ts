import type { SchemaObject } from '@meridian/service-kit';
import { SHAPE_TEXT } from './tensor';

const TOP5: SchemaObject = {
  type: 'array',
  minItems: 1,
  maxItems: 5,
  items: {
    type: 'object',
    required: ['index', 'label', 'score'],
    properties: { index: { type: 'integer', minimum: 0, maximum: 999 }, label: { type: 'string' }, score: { type: 'number' } },
  },
};
const PROBABILITIES: SchemaObject = { type: 'array', items: { type: 'number' }, minItems: 1000, maxItems: 1000 };
const ms: SchemaObject = { type: 'number', minimum: 0 };
const MODEL: SchemaObject = { type: 'string', enum: ['efficientnetb0', 'mobilenetv2'] };

/** POST /predict's answer. */
export const PREDICTION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['model', 'untrained', 'weights', 'probabilities', 'top5', 'inferenceMs'],
  properties: { model: MODEL, untrained: { type: 'boolean' }, weights: { type: 'string' }, probabilities: PROBABILITIES, top5: TOP5, inferenceMs: ms },
};

/** POST /ensemble's answer. */
export const ENSEMBLE_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['model', 'members', 'degraded', 'failed', 'untrained', 'probabilities', 'top5', 'timings'],
  properties: {
    model: { type: 'string', enum: ['ensemble'] },
    members: { type: 'array', items: MODEL, minItems: 1, description: 'The members whose answers were averaged' },
    degraded: { type: 'boolean', description: 'True when a member failed and the answer comes from the other alone' },
    failed: {
      type: 'array',
      items: {
        type: 'object',
        required: ['member', 'status', 'type'],
        properties: { member: MODEL, status: { type: 'integer' }, type: { type: 'string' }, detail: { type: 'string' } },
      },
    },
    untrained: { type: 'boolean' },
    probabilities: PROBABILITIES,
    top5: TOP5,
    timings: {
      type: 'object',
      required: ['efficientnetb0Ms', 'mobilenetv2Ms', 'totalMs'],
      properties: { efficientnetb0Ms: { ...ms, nullable: true }, mobilenetv2Ms: { ...ms, nullable: true }, totalMs: ms },
    },
  },
};

/** GET / on either role. */
export const INDEX_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['service', 'role', 'status', 'input', 'links'],
  properties: {
    service: { type: 'string' },
    role: { type: 'string', enum: ['ensemble', 'efficientnetb0', 'mobilenetv2'] },
    status: { type: 'string', enum: ['ok', 'loading'] },
    members: { type: 'object', additionalProperties: { type: 'string' } },
    timeoutMs: { type: 'integer' },
    model: { type: 'object' },
    input: { type: 'object', additionalProperties: { type: 'string' } },
    links: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

export const SHAPE_HEADER = {
  name: 'x-tensor-shape',
  required: false,
  description: `Shape of a binary tensor; must be ${SHAPE_TEXT} when present`,
  schema: { type: 'string', example: SHAPE_TEXT },
} as const;
