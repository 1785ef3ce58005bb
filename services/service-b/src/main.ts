import 'reflect-metadata';
import { startService } from '@meridian/service-kit';
import { AppModule } from './app.module';
import { config, SERVICE_NAME } from './config';

void startService({ serviceName: SERVICE_NAME, module: AppModule, host: config.HOST, port: config.PORT });
