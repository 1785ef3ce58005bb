/**
 * Meridian services as the benchmarks run them: built output, one process each, on free loopback
 * ports, with the OpenTelemetry SDK off, on (the contract's instrumentation list) or on with the
 * full auto-instrumentation set.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths';
import type { Pipeline } from './pipeline';
import { freePort, start, stop, Tracked, waitReady } from './procs';

/** Node's flags for a service process, as the local run and the images give them. */
const { flags: NODE_FLAGS, env: NODE_ENV_VARS } = JSON.parse(readFileSync(path.join(ROOT, 'packages/service-kit/node-flags.json'), 'utf8')) as {
  flags: string[];
  env: Record<string, string>;
};

/**
 * off: no --require, OTEL_SDK_DISABLED=true (the SDK is never loaded);
 * on:  --require @meridian/service-kit/register, 100 % sampling (the default parentbased_always_on),
 *      OTLP/HTTP protobuf to the collector, the explicit instrumentation list;
 * all: as on, with MERIDIAN_OTEL_INSTRUMENTATIONS=all (the package's full default set).
 */
export type SdkMode = 'off' | 'on' | 'all';

export type ServiceName =
  | 'service-a'
  | 'service-b'
  | 'preprocessing-edge'
  | 'inference-ensemble'
  | 'inference-efficientnetb0'
  | 'inference-mobilenetv2';

const FOLDER: Record<ServiceName, string> = {
  'service-a': 'service-a',
  'service-b': 'service-b',
  'preprocessing-edge': 'preprocessing-edge',
  'inference-ensemble': 'inference',
  'inference-efficientnetb0': 'inference',
  'inference-mobilenetv2': 'inference',
};

export interface Running {
  url: string;
  proc: Tracked;
  pid: number;
  /** Process start (spawn) to the first 200 from /ready, in ms. */
  readyMs: number;
  stop(): Promise<void>;
}

export interface RunningService extends Running {
  name: ServiceName;
  sdk: SdkMode;
}

export function sdkEnv(sdk: SdkMode, pipeline?: Pipeline): Record<string, string> {
  if (sdk === 'off') return { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'none' };
  if (!pipeline) throw new Error('the SDK-on sides need the collector (startPipeline)');
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: pipeline.otlpHttp,
    ...(sdk === 'all' ? { MERIDIAN_OTEL_INSTRUMENTATIONS: 'all' } : {}),
  };
}

export interface StartServiceOptions {
  sdk: SdkMode;
  pipeline?: Pipeline;
  env?: Record<string, string>;
}

export function checkBuilt(): void {
  for (const folder of new Set(Object.values(FOLDER))) {
    const main = path.join(ROOT, 'services', folder, 'dist/src/main.js');
    if (!existsSync(main)) throw new Error(`${main} is missing: build first (npm run bench builds)`);
  }
  if (!existsSync(path.join(ROOT, 'services/inference/models/generated/mobilenetv2.onnx'))) {
    throw new Error('the generated ONNX models are missing: run `npm run models` (npm run bench does it first)');
  }
}

/** Spawns `node args` on a free loopback port (PORT) in a clean environment and waits for /ready. */
async function launch(label: string, args: string[], cwd: string, env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const t0 = performance.now();
  const proc = start(label, process.execPath, args, {
    cwd,
    // A clean environment: nothing of the caller's OTEL_*, FLAGS_FILE or ports leaks into a side.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), ...env },
    clean: true,
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    const readyMs = await waitReady(proc, `${url}/ready`, t0, 60_000, 10);
    return { url, proc, pid: proc.pid, readyMs, stop: () => stop(proc) };
  } catch (err) {
    await stop(proc);
    throw err;
  }
}

export async function startService(name: ServiceName, opts: StartServiceOptions): Promise<RunningService> {
  const main = 'dist/src/main.js';
  const args = opts.sdk === 'off' ? [...NODE_FLAGS, main] : [...NODE_FLAGS, '--require', '@meridian/service-kit/register', main];
  const role: Record<string, string> = name.startsWith('inference-') ? { ROLE: name.slice('inference-'.length) } : {};
  const env: Record<string, string> = {
    ...NODE_ENV_VARS,
    OTEL_SERVICE_NAME: name,
    LOG_LEVEL: 'info',
    ...role,
    ...sdkEnv(opts.sdk, opts.pipeline),
    ...opts.env,
  };
  const running = await launch(`${name} (SDK ${opts.sdk})`, args, path.join(ROOT, 'services', FOLDER[name]), env);
  return { name, sdk: opts.sdk, ...running };
}

const PEER = path.join(__dirname, '../peer');

/**
 * The hand-written peer (bench/peer): Express, prom-client and pino-http, with the OpenTelemetry
 * SDK as its docs set it up (`--require tracing.js`, on) or not loaded at all (off). With the SDK
 * on it exports traces only, as service-a does: its metrics are pulled from /metrics and its logs
 * go to stdout, so NodeSDK's default OTLP metrics and logs exporters are switched off.
 */
export function startPeer(sdk: 'off' | 'on', pipeline?: Pipeline): Promise<Running> {
  const server = path.join(PEER, 'server.js');
  const args = sdk === 'off' ? [server] : ['--require', path.join(PEER, 'tracing.js'), server];
  const env = {
    OTEL_SERVICE_NAME: 'hand-written-peer',
    ...sdkEnv(sdk, pipeline),
    ...(sdk === 'on' ? { OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' } : {}),
  };
  return launch(`hand-written peer (SDK ${sdk})`, args, path.join(ROOT, 'bench'), env);
}

export interface Chain {
  services: Map<ServiceName, RunningService>;
  get(name: ServiceName): RunningService;
  stop(): Promise<void>;
}

function chain(services: Map<ServiceName, RunningService>): Chain {
  return {
    services,
    get(name) {
      const s = services.get(name);
      if (!s) throw new Error(`${name} is not running`);
      return s;
    },
    // Callers first, so nothing logs errors about a peer that went away.
    stop: async () => {
      for (const s of [...services.values()].reverse()) await s.stop();
    },
  };
}

/**
 * Starts the named services one after the other in dependency order, each with its peers' URLs,
 * so that each start (and its cold-start time) has the machine to itself.
 */
export async function startChain(
  names: ServiceName[],
  opts: StartServiceOptions & { /** Settings for one service only (e.g. a port of its own). */ envFor?: Partial<Record<ServiceName, Record<string, string>>> },
  onReady?: (s: RunningService) => void,
): Promise<Chain> {
  const { envFor, ...shared } = opts;
  const order: ServiceName[] = ['service-b', 'service-a', 'inference-efficientnetb0', 'inference-mobilenetv2', 'inference-ensemble', 'preprocessing-edge'];
  const need = new Set(names);
  if (need.has('service-a')) need.add('service-b');
  if (need.has('preprocessing-edge')) need.add('inference-ensemble');
  if (need.has('inference-ensemble')) {
    need.add('inference-efficientnetb0');
    need.add('inference-mobilenetv2');
  }
  const running = new Map<ServiceName, RunningService>();
  const c = chain(running);
  try {
    for (const name of order.filter((n) => need.has(n))) {
      const peers: Record<string, string> = {};
      if (name === 'service-a') peers.SERVICE_B_URL = running.get('service-b')!.url;
      if (name === 'inference-ensemble') {
        peers.EFFICIENTNETB0_URL = running.get('inference-efficientnetb0')!.url;
        peers.MOBILENETV2_URL = running.get('inference-mobilenetv2')!.url;
      }
      if (name === 'preprocessing-edge') peers.INFERENCE_URL = running.get('inference-ensemble')!.url;
      const s = await startService(name, { ...shared, env: { ...peers, ...shared.env, ...envFor?.[name] } });
      running.set(name, s);
      onReady?.(s);
    }
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}
