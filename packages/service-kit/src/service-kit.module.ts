import { DynamicModule, Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { LoggerModule } from 'nestjs-pino';
import { HealthController, MetricsController } from './health.controller';
import { loggerOptions } from './logging';
import { ReadinessRegistry } from './readiness';

export interface ServiceKitOptions {
  serviceName: string;
  logLevel?: string;
}

/** Health (/healthy, /ready), metrics (/metrics) and structured logging for every Meridian service. */
@Global()
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitOptions): DynamicModule {
    return {
      module: ServiceKitModule,
      imports: [
        LoggerModule.forRoot(loggerOptions(options.serviceName, options.logLevel ?? 'info')),
        PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: true }, controller: MetricsController }),
        TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
      ],
      controllers: [HealthController],
      providers: [ReadinessRegistry],
      exports: [ReadinessRegistry],
    };
  }
}
