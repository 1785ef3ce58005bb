// @ts-check
// The six service processes of the local stack, run from their built output exactly as in a container.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/ensure.mjs';
import { PORTS } from './ports.mjs';

/**
 * @typedef {object} ProcessSpec
 * @property {string} name
 * @property {string} command
 * @property {string[]} args
 * @property {string} cwd
 * @property {Record<string, string>} env
 * @property {string} readyUrl  polled until it answers 200
 * @property {() => Promise<boolean>} [ready] replaces the readyUrl poll (the TLS ingress)
 * @property {boolean} [restart] restarted when it exits, as Kubernetes would
 * @property {boolean} [json]   its stdout is pino JSON
 * @property {string} [url]     printed in the summary
 * @property {string} [hint]    printed beside the URL in the summary
 */

const H = '127.0.0.1';

/** Node's flags and environment for every service process, shared with the images and the bench. */
const { flags: NODE_FLAGS, env: NODE_ENV_VARS } = /** @type {{ flags: string[], env: Record<string, string> }} */ (
  JSON.parse(readFileSync(path.join(ROOT, 'packages/service-kit/node-flags.json'), 'utf8'))
);

/**
 * @param {Record<string, string>} telemetryEnv OTEL_* settings for cloud services
 * @param {Record<string, string>} [edgeTelemetryEnv] OTEL_* settings for the edge (through the ingress)
 * @param {Record<string, string>} [faultEnv] FLAGS_FILE and FAULTS_UNSAFE_ENABLED, the same for every service
 * @returns {ProcessSpec[]}
 */
export function serviceSpecs(telemetryEnv, edgeTelemetryEnv = telemetryEnv, faultEnv = {}) {
  /** @param {string} folder @param {string} name @param {number} port @param {Record<string,string>} env @param {Record<string,string>} otel */
  const svc = (folder, name, port, env, otel = telemetryEnv) => ({
    name,
    command: process.execPath,
    args: [...NODE_FLAGS, '--require', '@meridian/service-kit/register', 'dist/src/main.js'],
    cwd: path.join(ROOT, 'services', folder),
    env: { ...NODE_ENV_VARS, HOST: H, PORT: String(port), OTEL_SERVICE_NAME: name, ...otel, ...faultEnv, ...env },
    readyUrl: `http://${H}:${port}/ready`,
    restart: true,
    json: true,
    url: `http://${H}:${port}`,
  });
  return [
    svc('service-b', 'service-b', PORTS.serviceB, {}),
    svc('service-a', 'service-a', PORTS.serviceA, {
      SERVICE_B_URL: `http://${H}:${PORTS.serviceB}`,
      CRASH_ENABLED: process.env.CRASH_ENABLED ?? 'true',
    }),
    svc('inference', 'inference-efficientnetb0', PORTS.efficientnetb0, { ROLE: 'efficientnetb0' }),
    svc('inference', 'inference-mobilenetv2', PORTS.mobilenetv2, { ROLE: 'mobilenetv2' }),
    svc('inference', 'inference-ensemble', PORTS.ensemble, {
      ROLE: 'ensemble',
      EFFICIENTNETB0_URL: `http://${H}:${PORTS.efficientnetb0}`,
      MOBILENETV2_URL: `http://${H}:${PORTS.mobilenetv2}`,
    }),
    svc(
      'preprocessing-edge',
      'preprocessing-edge',
      PORTS.edge,
      { INFERENCE_URL: `http://${H}:${PORTS.ensemble}` },
      edgeTelemetryEnv,
    ),
  ];
}

/** Services grouped so that each group only calls services of earlier groups. */
const WAVES = [
  ['service-b', 'inference-efficientnetb0', 'inference-mobilenetv2'],
  ['service-a', 'inference-ensemble'],
  ['preprocessing-edge'],
];

/** @param {ProcessSpec[]} specs @returns {ProcessSpec[][]} */
export function startWaves(specs) {
  const waves = WAVES.map((names) => specs.filter((s) => names.includes(s.name)));
  const placed = new Set(WAVES.flat());
  // The pipeline starts first: backends, then the collector that exports to them and the ingress
  // in front of it.
  const pipeline = specs.filter((s) => !placed.has(s.name));
  const front = ['collector', 'edge-ingress'];
  return [pipeline.filter((s) => !front.includes(s.name)), pipeline.filter((s) => front.includes(s.name)), ...waves].filter(
    (w) => w.length > 0,
  );
}
