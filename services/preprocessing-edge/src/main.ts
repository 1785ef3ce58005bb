import 'reflect-metadata';
import { startService } from '@meridian/service-kit';
import { AppModule } from './app.module';
import { config, SERVICE_NAME } from './config';
import { RAW_IMAGE_TYPES } from './upload';

void startService({
  serviceName: SERVICE_NAME,
  module: AppModule,
  host: config.HOST,
  port: config.PORT,
  bodyLimitBytes: config.MAX_UPLOAD_BYTES,
  multipart: true,
  rawBodyTypes: RAW_IMAGE_TYPES,
});
