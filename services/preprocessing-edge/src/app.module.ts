import { Module } from '@nestjs/common';
import { ServiceKitModule } from '@meridian/service-kit';
import { config, SERVICE_NAME } from './config';
import { EnsembleClient } from './ensemble.client';
import { PreprocessingController } from './preprocessing.controller';

@Module({
  imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, logLevel: config.LOG_LEVEL })],
  controllers: [PreprocessingController],
  providers: [EnsembleClient],
})
export class AppModule {}
