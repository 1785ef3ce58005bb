import { Module } from '@nestjs/common';
import { ServiceKitModule } from '@meridian/service-kit';
import { config, SERVICE_NAME } from './config';
import { DataController } from './data.controller';

@Module({
  imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, logLevel: config.LOG_LEVEL })],
  controllers: [DataController],
})
export class AppModule {}
