import 'reflect-metadata';
import { startService } from '@meridian/service-kit';
import { AppModule } from './app.module';
import { BODY_LIMIT_BYTES, config, ModelRole, SERVICE_NAME } from './config';
import { missingModelMessage, resolveModelSource } from './model-file';

// A model role without its model file stops here, before anything listens.
if (config.ROLE !== 'ensemble') {
  const problem = missingModelMessage(resolveModelSource(config.ROLE as ModelRole, config), config.MODEL_PATH !== undefined);
  if (problem) {
    process.stderr.write(`${SERVICE_NAME}: ${problem}\n`);
    process.exit(1);
  }
}

void startService({
  serviceName: SERVICE_NAME,
  module: AppModule,
  host: config.HOST,
  port: config.PORT,
  bodyLimitBytes: BODY_LIMIT_BYTES,
  rawBodyTypes: ['application/octet-stream'],
});
