import { FlagdCore } from '@openfeature/flagd-core';
import type { EvaluationContext, JsonValue, Logger, Provider, ResolutionDetails } from '@openfeature/server-sdk';

/**
 * An OpenFeature provider over one flagd-format flag file's content, evaluated by flagd's own
 * engine (@openfeature/flagd-core: the same parsing, targeting and errors as the flagd
 * provider's in-process resolver). The flagd provider package also brings in gRPC for its
 * remote modes, about 13 MiB of resident memory in every service that only reads a file; the
 * file itself is re-read by the fault injector, which makes a new provider when it changes.
 */
export class FlagFileProvider implements Provider {
  readonly metadata = { name: 'flagd-file' } as const;
  readonly runsOn = 'server' as const;
  private readonly core: FlagdCore;

  /** Throws when the content is not a flagd flag configuration, as the flagd provider does. */
  constructor(content: string, logger?: Logger) {
    this.core = new FlagdCore(undefined, logger);
    this.core.setConfigurations(content);
  }

  resolveBooleanEvaluation(key: string, defaultValue: boolean, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.core.resolveBooleanEvaluation(key, defaultValue, context, logger));
  }

  resolveNumberEvaluation(key: string, defaultValue: number, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.core.resolveNumberEvaluation(key, defaultValue, context, logger));
  }

  resolveStringEvaluation(key: string, defaultValue: string, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.core.resolveStringEvaluation(key, defaultValue, context, logger));
  }

  resolveObjectEvaluation<T extends JsonValue>(key: string, defaultValue: T, context: EvaluationContext, logger: Logger): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.core.resolveObjectEvaluation(key, defaultValue, context, logger));
  }
}
