import { env, loadConfigOrExit } from '@meridian/service-kit';

export const SERVICE_NAME = 'preprocessing-edge';

/** Site ids end up in baggage and on every span of the cloud services, so they are kept label-safe. */
export const SITE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const config = loadConfigOrExit(SERVICE_NAME, {
  HOST: env.string('127.0.0.1'),
  PORT: env.port(5010),
  LOG_LEVEL: env.logLevel(),
  INFERENCE_URL: env.url('http://127.0.0.1:8000'),
  INFERENCE_TIMEOUT_MS: env.int(10_000, 1, 600_000),
  MAX_UPLOAD_BYTES: env.int(10 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  // Decoded size cap, checked on the header before any pixel is decoded (decompression bombs).
  MAX_INPUT_PIXELS: env.int(40_000_000, 1, 268_402_689),
  EDGE_SITE_ID: env.string('edge-local-1', SITE_ID_PATTERN),
});

export type EdgeConfig = typeof config;
