import { Controller, Get, HttpCode, Logger, Post, Req, Res } from '@nestjs/common';
import { currentTraceId, withBaggage } from '@meridian/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { config, SERVICE_NAME } from './config';
import { EnsembleClient } from './ensemble.client';
import { decodeImage, resizeToInput } from './image-pipeline';
import { elapsedMs, preprocessingDuration, roundMs, runStage } from './telemetry';
import { TENSOR_BYTES, TENSOR_SHAPE, tensorBytes, toChwTensor } from './tensor';
import { RAW_IMAGE_TYPES, readUpload } from './upload';

/** Image in, prediction out: decode, resize and normalise at the edge, classify in the cloud. */
@Controller()
export class PreprocessingController {
  private readonly logger = new Logger(PreprocessingController.name);

  constructor(private readonly ensemble: EnsembleClient) {}

  @Get()
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
  async preprocess(@Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const startedAt = performance.now();
    const upload = await readUpload(req, reply, config.MAX_UPLOAD_BYTES);
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
        top5: answer.top5.map(({ index, label, score }) => ({ index, label, score })),
        timings,
        ensembleTimings: answer.timings,
      };
    });
  }
}
