import { Module } from '@nestjs/common';
import { ServiceKitModule } from '@meridian/service-kit';
import { AppController } from './app.controller';
import { config, SERVICE_NAME } from './config';
import { ServiceBClient } from './service-b.client';

@Module({
  imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, logLevel: config.LOG_LEVEL })],
  controllers: [AppController],
  providers: [ServiceBClient],
})
export class AppModule {}
