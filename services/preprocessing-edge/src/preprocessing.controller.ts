import { Controller, Get, HttpCode, Logger, Post, Req } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProblems,
  ApiRequestBody,
  BINARY_SCHEMA,
  currentTraceId,
  type SchemaObject,
  withBaggage,
} from '@meridian/service-kit';
import type { FastifyRequest } from 'fastify';
import { config, SERVICE_NAME } from './config';
import { EnsembleClient } from './ensemble.client';
import { decodeImage, resizeToInput } from './image-pipeline';
import { elapsedMs, preprocessingDuration, roundMs, runStage } from './telemetry';
import { TENSOR_BYTES, TENSOR_SHAPE, tensorBytes, toChwTensor } from './tensor';
import { RAW_IMAGE_TYPES, readUpload } from './upload';

const INDEX_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['service', 'status', 'site', 'accepts', 'maxUploadBytes', 'links'],
  properties: {
    service: { type: 'string', enum: [SERVICE_NAME] },
    status: { type: 'string', enum: ['ok'] },
    site: { type: 'string' },
    inference: { type: 'string' },
    accepts: { type: 'array', items: { type: 'string' } },
    maxUploadBytes: { type: 'integer' },
    links: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
const ms: SchemaObject = { type: 'number', minimum: 0 };
const PREDICTION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['traceId', 'site', 'model', 'untrained', 'degraded', 'top5', 'timings'],
  properties: {
    traceId: { type: 'string', nullable: true, description: 'The trace of this request (null when tracing is off)' },
    site: { type: 'string' },
    model: { type: 'string', enum: ['ensemble'] },
    untrained: { type: 'boolean', description: 'True when the models have generated (meaningless) weights' },
    degraded: { type: 'boolean', description: 'True when the ensemble answered from one model because the other failed' },
    failedMembers: { type: 'array', items: { type: 'string' } },
    top5: {
      type: 'array',
      minItems: 1,
      maxItems: 5,
      items: {
        type: 'object',
        required: ['index', 'label', 'score'],
        properties: { index: { type: 'integer', minimum: 0, maximum: 999 }, label: { type: 'string' }, score: { type: 'number' } },
      },
    },
    timings: {
      type: 'object',
      required: ['decodeMs', 'resizeMs', 'normalizeMs', 'inferenceMs', 'totalMs'],
      properties: { decodeMs: ms, resizeMs: ms, normalizeMs: ms, inferenceMs: ms, totalMs: ms },
    },
    ensembleTimings: { type: 'object' },
  },
};
const UPLOAD_CONTENT: Record<string, SchemaObject> = {
  ...Object.fromEntries(RAW_IMAGE_TYPES.map((t) => [t, BINARY_SCHEMA])),
  'multipart/form-data': {
    type: 'object',
    required: ['image'],
    properties: { image: { ...BINARY_SCHEMA, description: 'One JPEG, PNG or WebP file (any field name is accepted)' } },
  },
};

/** Image in, prediction out: decode, resize and normalise at the edge, classify in the cloud. */
@Controller()
export class PreprocessingController {
  private readonly logger = new Logger(PreprocessingController.name);

  constructor(private readonly ensemble: EnsembleClient) {}

  @Get()
  @ApiOperation({ summary: 'Status, site and what POST /preprocessing accepts' })
  @ApiOkResponse({ description: 'Status and links', schema: INDEX_SCHEMA })
  index() {
    return {
      service: SERVICE_NAME,
      status: 'ok',
      site: config.EDGE_SITE_ID,
      inference: config.INFERENCE_URL,
      accepts: [...RAW_IMAGE_TYPES, 'multipart/form-data'],
      maxUploadBytes: config.MAX_UPLOAD_BYTES,
      links: { preprocessing: '/preprocessing', healthy: '/healthy', ready: '/ready', metrics: '/metrics' },
    };
  }

  @Post('preprocessing')
  @HttpCode(200)
  @ApiOperation({ summary: 'Classifies one image: decode, resize and normalise here, then ask the cloud ensemble' })
  @ApiRequestBody(UPLOAD_CONTENT, { description: 'One JPEG, PNG or WebP image: the raw bytes with their content type, or one file in multipart/form-data' })
  @ApiOkResponse({ description: 'The top-5 classes, per-stage timings and the trace id', schema: PREDICTION_SCHEMA })
  @ApiProblems(400, 413, 415, 422, 502, 503, 504)
  async preprocess(@Req() req: FastifyRequest) {
    const startedAt = performance.now();
    const upload = await readUpload(req, config.MAX_UPLOAD_BYTES);
    // The site id travels as baggage, so the cloud's spans of this request carry meridian.site.
    return withBaggage({ 'meridian.site': config.EDGE_SITE_ID }, async () => {
      const decoded = await runStage('decode', { 'image.bytes': upload.bytes.length }, async (span) => {
        const image = await decodeImage(upload.bytes, config.MAX_INPUT_PIXELS);
        span.setAttributes({
          'image.format': image.format,
          'image.width': image.width,
          'image.height': image.height,
          'image.channels': image.channels,
          ...(image.orientation ? { 'image.orientation': image.orientation } : {}),
        });
        return image;
      });
      const image = decoded.value;
      const resized = await runStage(
        'resize',
        { 'image.format': 'raw', 'image.width': image.width, 'image.height': image.height, 'image.bytes': image.pixels.length },
        async (span) => {
          const out = await resizeToInput(image);
          span.setAttributes({ 'image.output_width': out.width, 'image.output_height': out.height, 'image.output_bytes': out.rgb.length });
          return out;
        },
      );
      const normalized = await runStage(
        'normalize',
        { 'image.format': 'rgb', 'image.width': resized.value.width, 'image.height': resized.value.height, 'image.bytes': resized.value.rgb.length },
        async (span) => {
          const body = tensorBytes(toChwTensor(resized.value.rgb, resized.value.width, resized.value.height));
          span.setAttributes({ 'tensor.shape': TENSOR_SHAPE.join(','), 'tensor.bytes': TENSOR_BYTES });
          return body;
        },
      );

      const inferenceStarted = performance.now();
      const answer = await this.ensemble.predict(normalized.value);
      const inferenceMs = elapsedMs(inferenceStarted);
      preprocessingDuration.observe({ stage: 'inference' }, inferenceMs / 1000);
      const totalMs = elapsedMs(startedAt);
      preprocessingDuration.observe({ stage: 'total' }, totalMs / 1000);

      const timings = {
        decodeMs: roundMs(decoded.ms),
        resizeMs: roundMs(resized.ms),
        normalizeMs: roundMs(normalized.ms),
        inferenceMs: roundMs(inferenceMs),
        totalMs: roundMs(totalMs),
      };
      this.logger.log(
        {
          format: image.format,
          width: image.width,
          height: image.height,
          bytes: upload.bytes.length,
          via: upload.via,
          declaredType: upload.declaredType,
          top1: answer.top5[0].label,
          untrained: answer.untrained,
          timings,
        },
        'image classified',
      );
      return {
        traceId: currentTraceId() ?? null,
        site: config.EDGE_SITE_ID,
        model: answer.model,
        untrained: answer.untrained,
        // The ensemble answered from one model only; which one failed is in its answer.
        degraded: answer.degraded === true,
        ...(answer.degraded ? { failedMembers: Array.isArray(answer.failed) ? answer.failed.map((f) => String(f?.member)) : [] } : {}),
        top5: answer.top5.map(({ index, label, score }) => ({ index, label, score })),
        timings,
        ensembleTimings: answer.timings,
      };
    });
  }
}
