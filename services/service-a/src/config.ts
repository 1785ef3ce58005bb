import { env, loadConfigOrExit } from '@meridian/service-kit';

export const SERVICE_NAME = 'service-a';

export const config = loadConfigOrExit(SERVICE_NAME, {
  HOST: env.string('127.0.0.1'),
  PORT: env.port(8080),
  LOG_LEVEL: env.logLevel(),
  SERVICE_B_URL: env.url('http://127.0.0.1:8081'),
  SERVICE_B_TIMEOUT_MS: env.int(2000, 50, 60_000),
  /** /crash really exits the process only when this is on; otherwise it answers 403. */
  CRASH_ENABLED: env.bool(false),
  /** Upper bound on POST /hash iterations, so one request cannot hold a core for long. */
  HASH_MAX_ITERATIONS: env.int(100_000, 1, 10_000_000),
  /** Longest /example task, in milliseconds. */
  EXAMPLE_MAX_MS: env.int(1000, 1, 60_000),
});
