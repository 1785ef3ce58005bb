import { Injectable, OnModuleInit } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { HttpClient, ProblemException, ReadinessRegistry } from '@meridian/service-kit';
import { config } from './config';
import { ensembleAnswerProblem, EnsembleAnswer } from './ensemble-answer';
import { TENSOR_SHAPE } from './tensor';

const PEER = 'inference-ensemble';
/** Readiness probes have their own short budget: a probe that waits 10 s is worse than a failed one. */
const READINESS_TIMEOUT_MS = 1000;

/** The cloud inference ensemble, reached through the Ingress. */
@Injectable()
export class EnsembleClient implements OnModuleInit {
  private readonly http = new HttpClient({
    peer: PEER,
    baseURL: config.INFERENCE_URL,
    timeoutMs: config.INFERENCE_TIMEOUT_MS,
    // 1000 probabilities as JSON are ~25 kB; anything far larger is not an answer.
    maxResponseBytes: 1024 * 1024,
  });
  private readonly probe = new HttpClient({
    peer: PEER,
    baseURL: config.INFERENCE_URL,
    timeoutMs: Math.min(READINESS_TIMEOUT_MS, config.INFERENCE_TIMEOUT_MS),
    maxResponseBytes: 64 * 1024,
    // The probe reports the ensemble as it is now: no retries, no breaker.
    retries: 0,
    breaker: false,
  });

  constructor(private readonly readiness: ReadinessRegistry) {}

  onModuleInit(): void {
    // The edge is useless without the cloud, so it is not ready while the ensemble is unreachable.
    this.readiness.add(PEER, async () => {
      // Probes are not traffic: no root span every few seconds for each probe.
      const res = await context.with(suppressTracing(context.active()), () => this.probe.get('/healthy'));
      if (res.status !== 200) throw new Error(`${PEER} /healthy answered ${res.status}`);
    });
  }

  /**
   * POSTs the little-endian float32 tensor; answers the checked prediction or a 502/503/504 problem.
   * Not retried: the ensemble already retries its members, and retrying at both layers multiplies
   * the load on a struggling cloud.
   */
  async predict(tensor: Buffer): Promise<EnsembleAnswer> {
    const res = await this.http.post<unknown>('/ensemble', tensor, {
      headers: { 'content-type': 'application/octet-stream', 'x-tensor-shape': TENSOR_SHAPE.join(',') },
    });
    if (res.status !== 200) {
      throw new ProblemException(502, `${PEER} answered ${res.status}`, 'upstream-error', { upstreamStatus: res.status });
    }
    const wrong = ensembleAnswerProblem(res.data);
    if (wrong) throw new ProblemException(502, `${PEER} answered an unexpected body: ${wrong}`, 'upstream-error');
    return res.data as EnsembleAnswer;
  }
}
