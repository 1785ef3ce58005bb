import path from 'node:path';
import { env, loadConfigOrExit } from '@meridian/service-kit';
import { SERVICE_DIR } from './paths';

export const ROLES = ['ensemble', 'efficientnetb0', 'mobilenetv2'] as const;
export type Role = (typeof ROLES)[number];
export type ModelRole = Exclude<Role, 'ensemble'>;
export const MODEL_ROLES: readonly ModelRole[] = ['efficientnetb0', 'mobilenetv2'];

const DEFAULT_PORTS: Record<Role, number> = { ensemble: 8000, efficientnetb0: 8001, mobilenetv2: 8002 };

// The role decides the service name and default port, so it is read first.
const { ROLE } = loadConfigOrExit('inference', { ROLE: env.oneOf(ROLES) });

export const SERVICE_NAME = `inference-${ROLE}`;

export const config = loadConfigOrExit(SERVICE_NAME, {
  ROLE: env.oneOf(ROLES),
  HOST: env.string('127.0.0.1'),
  PORT: env.port(DEFAULT_PORTS[ROLE]),
  LOG_LEVEL: env.logLevel(),
  /** Model roles: threads onnxruntime uses inside one inference. */
  ORT_THREADS: env.int(1, 1, 64),
  /** Model roles: a pretrained ONNX file (1×3×224×224 float in, 1000 classes out); else the generated graph. */
  MODEL_PATH: env.optionalString(),
  /** Model roles: where pretrained files baked in at image build time are (<role>.onnx), used when MODEL_PATH is unset. */
  PRETRAINED_DIR: env.string(path.join(SERVICE_DIR, 'models/pretrained')),
  MODEL_DIR: env.string(path.join(SERVICE_DIR, 'models/generated')),
  /** Ensemble role: where the members answer, and how long each may take. */
  EFFICIENTNETB0_URL: env.url('http://127.0.0.1:8001'),
  MOBILENETV2_URL: env.url('http://127.0.0.1:8002'),
  MODEL_TIMEOUT_MS: env.int(5000, 1, 600_000),
  /** Ensemble role: timeout of each member's /healthy check inside /ready. */
  READY_TIMEOUT_MS: env.int(1000, 1, 60_000),
});

export type Config = typeof config;

/** Largest request body: the JSON form of a tensor is about 3 MB; binary is 602,112 bytes. */
export const BODY_LIMIT_BYTES = 8 * 1024 * 1024;
