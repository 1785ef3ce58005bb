import { Module, Provider, Type } from '@nestjs/common';
import { ServiceKitModule } from '@meridian/service-kit';
import { config, SERVICE_NAME } from './config';
import { EnsembleController } from './ensemble.controller';
import { EnsembleService } from './ensemble.service';
import { IndexController } from './index.controller';
import { loadLabels } from './labels';
import { ModelService } from './model.service';
import { PredictController } from './predict.controller';
import { CONFIG, LABELS } from './tokens';

// One codebase, three roles: the ensemble fans out, the model roles run onnxruntime.
const isEnsemble = config.ROLE === 'ensemble';
const controllers: Type<unknown>[] = [IndexController, isEnsemble ? EnsembleController : PredictController];
const providers: Provider[] = [
  { provide: CONFIG, useValue: config },
  { provide: LABELS, useFactory: () => loadLabels() },
  isEnsemble ? EnsembleService : ModelService,
];

@Module({
  imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, logLevel: config.LOG_LEVEL })],
  controllers,
  providers,
})
export class AppModule {}
