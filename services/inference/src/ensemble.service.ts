import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpClient, ProblemException, ReadinessRegistry, runtimeConfig } from '@meridian/service-kit';
import { trace } from '@opentelemetry/api';
import { Config, MODEL_ROLES, ModelRole } from './config';
import { ensembleDegraded, inferenceDuration } from './metrics';
import { NUM_CLASSES } from './labels';
import type { Prediction } from './model.service';
import { CONFIG, LABELS } from './tokens';
import { InputTensor, OCTET_STREAM, SHAPE_TEXT, TopEntry, topK } from './tensor';

export interface FailedMember {
  member: ModelRole;
  status: number;
  type: string;
  detail: string;
}

export interface EnsemblePrediction {
  model: 'ensemble';
  /** The members whose answers were averaged. */
  members: ModelRole[];
  /** True when a member failed and the answer comes from the other alone. */
  degraded: boolean;
  failed: FailedMember[];
  untrained: boolean;
  probabilities: number[];
  top5: TopEntry[];
  /** A failed member's time is null. */
  timings: { efficientnetb0Ms: number | null; mobilenetv2Ms: number | null; totalMs: number };
}

interface Member {
  role: ModelRole;
  url: string;
  client: HttpClient;
  probe: HttpClient;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

type Answer = { role: ModelRole; prediction: Prediction; ms: number };

/** A member's failure as the answer reports it. */
function failureOf(role: ModelRole, err: unknown): FailedMember & { retryAfter?: number } {
  if (err instanceof ProblemException) {
    const body = err.getResponse() as { type: string; detail?: string };
    const retryAfter = Number(err.headers['retry-after']);
    return { member: role, status: err.getStatus(), type: body.type, detail: body.detail ?? '', ...(retryAfter > 0 ? { retryAfter } : {}) };
  }
  return { member: role, status: 502, type: 'urn:meridian:problem:upstream-error', detail: `inference-${role} failed` };
}

/** Asks both model servers in parallel and averages their probabilities. */
@Injectable()
export class EnsembleService implements OnModuleInit {
  private readonly logger = new Logger(EnsembleService.name);
  readonly members: Member[];

  private readonly retryAfterSeconds: number;

  constructor(
    @Inject(CONFIG) config: Config,
    @Inject(LABELS) private readonly labels: string[],
    private readonly readiness: ReadinessRegistry,
  ) {
    const urls: Record<ModelRole, string> = { efficientnetb0: config.EFFICIENTNETB0_URL, mobilenetv2: config.MOBILENETV2_URL };
    this.members = MODEL_ROLES.map((role) => ({
      role,
      url: urls[role],
      client: new HttpClient({ peer: `inference-${role}`, baseURL: urls[role], timeoutMs: config.MODEL_TIMEOUT_MS, maxResponseBytes: 1024 * 1024 }),
      // Probes report the member as it is now: no retries, no breaker.
      probe: new HttpClient({ peer: `inference-${role}`, baseURL: urls[role], timeoutMs: config.READY_TIMEOUT_MS, retries: 0, breaker: false }),
    }));
    this.retryAfterSeconds = Math.ceil(runtimeConfig().HTTP_BREAKER_HALF_OPEN_MS / 1000);
  }

  onModuleInit(): void {
    for (const m of this.members) {
      this.readiness.add(m.role, async () => {
        // Failures are already problems (502 unreachable, 504 too slow) whose detail /ready
        // reports. No spans: /ready is untraced, and tracing stays suppressed for calls made inside.
        const res = await m.probe.get('/healthy');
        if (res.status !== 200) throw new ProblemException(503, `inference-${m.role} /healthy answered ${res.status}`, 'not-ready');
      });
    }
  }

  /**
   * Asks both members in parallel. With one failing, answers from the other and says so
   * (`degraded: true`, `failed`); with both failing, 503 with Retry-After (504 when both were only
   * too slow).
   */
  async predict(input: InputTensor): Promise<EnsemblePrediction> {
    const span = trace.getActiveSpan();
    span?.setAttribute('meridian.model', 'ensemble');
    const started = performance.now();
    const body = input.bytes();
    const settled = await Promise.allSettled(this.members.map((m) => this.ask(m, body)));
    const answers = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = settled.flatMap((r, i) => (r.status === 'rejected' ? [failureOf(this.members[i].role, r.reason)] : []));
    const totalMs = performance.now() - started;
    if (answers.length === 0) throw this.allFailed(failures);
    inferenceDuration.observe({ model: 'ensemble' }, totalMs / 1000);
    const degraded = failures.length > 0;
    if (degraded) {
      const names = failures.map((f) => f.member).join(',');
      span?.setAttributes({ 'meridian.ensemble.degraded': true, 'meridian.ensemble.failed_members': names });
      for (const f of failures) ensembleDegraded.inc({ member: f.member });
      this.logger.warn({ failed: failures }, `degraded answer: ${names} failed, answering from ${answers.map((a) => a.role).join(',')}`);
    }

    const probabilities = new Array<number>(NUM_CLASSES).fill(0);
    for (const a of answers) for (let i = 0; i < NUM_CLASSES; i++) probabilities[i] += a.prediction.probabilities[i] / answers.length;
    const byRole = Object.fromEntries(answers.map((a) => [a.role, a])) as Partial<Record<ModelRole, Answer>>;
    const top5 = topK(probabilities, this.labels);
    this.logger.debug({ top1: top5[0], totalMs }, 'ensemble prediction');
    const ms = (role: ModelRole) => (byRole[role] ? round(byRole[role].ms) : null);
    return {
      model: 'ensemble',
      members: answers.map((a) => a.role),
      degraded,
      failed: failures.map(({ member, status, type, detail }) => ({ member, status, type, detail })),
      untrained: answers.some((a) => a.prediction.untrained),
      probabilities,
      top5,
      timings: { efficientnetb0Ms: ms('efficientnetb0'), mobilenetv2Ms: ms('mobilenetv2'), totalMs: round(totalMs) },
    };
  }

  private allFailed(failures: ReturnType<typeof failureOf>[]): ProblemException {
    const detail = failures.map((f) => f.detail).join('; ');
    const failed = failures.map(({ member, status, type }) => ({ member, status, type }));
    if (failures.every((f) => f.status === 504)) return new ProblemException(504, detail, 'upstream-timeout', { failed });
    const hinted = failures.map((f) => f.retryAfter).filter((s): s is number => s !== undefined);
    const retryAfter = hinted.length === failures.length ? Math.max(1, Math.min(...hinted)) : this.retryAfterSeconds;
    return new ProblemException(503, `no ensemble member answered: ${detail}`, 'ensemble-unavailable', { failed, retryAfterSeconds: retryAfter }, { 'retry-after': String(retryAfter) });
  }

  private async ask(m: Member, body: Buffer): Promise<Answer> {
    const started = performance.now();
    const res = await m.client.post<Prediction>('/predict', body, {
      headers: { 'content-type': OCTET_STREAM, 'x-tensor-shape': SHAPE_TEXT, accept: 'application/json' },
      // A prediction is a pure function of the tensor: sending it twice is harmless.
      idempotent: true,
    });
    const ms = performance.now() - started;
    if (res.status !== 200) {
      throw new ProblemException(502, `inference-${m.role} answered ${res.status}`, 'upstream-error', { upstreamStatus: res.status });
    }
    const p = res.data?.probabilities;
    if (!Array.isArray(p) || p.length !== NUM_CLASSES || !p.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ProblemException(502, `inference-${m.role} answered without ${NUM_CLASSES} probabilities`, 'upstream-error');
    }
    return { role: m.role, prediction: res.data, ms };
  }
}
