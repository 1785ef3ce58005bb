import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpClient, ProblemException, ReadinessRegistry } from '@meridian/service-kit';
import { trace } from '@opentelemetry/api';
import { Config, MODEL_ROLES, ModelRole } from './config';
import { inferenceDuration } from './metrics';
import { NUM_CLASSES } from './labels';
import type { Prediction } from './model.service';
import { CONFIG, LABELS } from './tokens';
import { InputTensor, OCTET_STREAM, SHAPE_TEXT, TopEntry, topK } from './tensor';

export interface EnsemblePrediction {
  model: 'ensemble';
  members: ModelRole[];
  untrained: boolean;
  probabilities: number[];
  top5: TopEntry[];
  timings: { efficientnetb0Ms: number; mobilenetv2Ms: number; totalMs: number };
}

interface Member {
  role: ModelRole;
  url: string;
  client: HttpClient;
  probe: HttpClient;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** Asks both model servers in parallel and averages their probabilities. */
@Injectable()
export class EnsembleService implements OnModuleInit {
  private readonly logger = new Logger(EnsembleService.name);
  readonly members: Member[];

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
      probe: new HttpClient({ peer: `inference-${role}`, baseURL: urls[role], timeoutMs: config.READY_TIMEOUT_MS }),
    }));
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

  async predict(input: InputTensor): Promise<EnsemblePrediction> {
    trace.getActiveSpan()?.setAttribute('meridian.model', 'ensemble');
    const started = performance.now();
    const body = input.bytes();
    const answers = await Promise.all(this.members.map((m) => this.ask(m, body)));
    const totalMs = performance.now() - started;
    inferenceDuration.observe({ model: 'ensemble' }, totalMs / 1000);

    const probabilities = new Array<number>(NUM_CLASSES).fill(0);
    for (const a of answers) for (let i = 0; i < NUM_CLASSES; i++) probabilities[i] += a.prediction.probabilities[i] / answers.length;
    const byRole = Object.fromEntries(answers.map((a) => [a.role, a])) as Record<ModelRole, (typeof answers)[number]>;
    const top5 = topK(probabilities, this.labels);
    this.logger.debug({ top1: top5[0], totalMs }, 'ensemble prediction');
    return {
      model: 'ensemble',
      members: answers.map((a) => a.role),
      untrained: answers.some((a) => a.prediction.untrained),
      probabilities,
      top5,
      timings: { efficientnetb0Ms: round(byRole.efficientnetb0.ms), mobilenetv2Ms: round(byRole.mobilenetv2.ms), totalMs: round(totalMs) },
    };
  }

  private async ask(m: Member, body: Buffer): Promise<{ role: ModelRole; prediction: Prediction; ms: number }> {
    const started = performance.now();
    const res = await m.client.post<Prediction>('/predict', body, {
      headers: { 'content-type': OCTET_STREAM, 'x-tensor-shape': SHAPE_TEXT, accept: 'application/json' },
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
