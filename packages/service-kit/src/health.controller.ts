import { Controller, Get, HttpException, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { PrometheusController } from '@willsoto/nestjs-prometheus';
import { ApiOkResponse, ApiOperation, ApiProblems, ApiProduces, ApiTags, type SchemaObject } from './openapi';
import { ProblemException, toProblem } from './problem';
import { ReadinessRegistry } from './readiness';

const indicators: SchemaObject = { type: 'object', additionalProperties: { type: 'object', properties: { status: { type: 'string' } } } };
/** Terminus' health answer. */
const HEALTH_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: ['ok'] }, info: indicators, error: indicators, details: indicators },
};

// The answers are documented by the decorators on each route; terminus' own documentation
// (swaggerDocumentation) would load @nestjs/swagger when the class is defined (see openapi.ts).
@ApiTags('probes')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly readiness: ReadinessRegistry,
  ) {}

  /** Liveness: the event loop answers. Dependencies are not checked here, so a slow peer never restarts us. */
  @Get('healthy')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ description: 'Alive', schema: HEALTH_SCHEMA })
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  healthy() {
    return this.health.check([async () => this.indicator.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  /** Readiness: every registered dependency answers, and the service is not shutting down. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: dependencies answer and the service is not shutting down' })
  @ApiOkResponse({ description: 'Ready', schema: HEALTH_SCHEMA })
  @ApiProblems(503)
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  async ready() {
    const checks = [
      async () => {
        const session = this.indicator.check('lifecycle');
        return this.readiness.isShuttingDown() ? session.down({ state: 'shutting-down' }) : session.up({ state: 'serving' });
      },
      ...this.readiness.entries().map(([name, check]) => async () => {
        const session = this.indicator.check(name);
        try {
          await check();
          return session.up();
        } catch (err) {
          const message = err instanceof HttpException ? toProblem(err).detail : err instanceof Error ? err.message : undefined;
          return session.down({ message: message ?? String(err) });
        }
      }),
    ];
    try {
      return await this.health.check(checks);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as { error?: Record<string, unknown>; details?: Record<string, unknown> };
      const failing = Object.keys(result.error ?? {});
      throw new ProblemException(503, `not ready: ${failing.join(', ')}`, 'not-ready', { checks: result.details ?? {} });
    }
  }
}

/** /metrics from @willsoto/nestjs-prometheus, documented. */
@ApiTags('probes')
@Controller()
export class MetricsController extends PrometheusController {
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } })
  override index(@Res({ passthrough: true }) response: unknown): Promise<string> {
    return super.index(response);
  }
}
