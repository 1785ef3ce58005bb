import { env, loadConfigOrExit } from '@meridian/service-kit';

export const SERVICE_NAME = 'service-b';

export const config = loadConfigOrExit(SERVICE_NAME, {
  HOST: env.string('127.0.0.1'),
  PORT: env.port(8081),
  LOG_LEVEL: env.logLevel(),
});
