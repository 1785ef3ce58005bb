import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { context, propagation } from '@opentelemetry/api';
import { BrokenCircuitError, CircuitBreakerPolicy, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { Gauge, register } from 'prom-client';
import { faultState, markFault } from './faults/state';
import { ProblemException } from './problem';
import { runtimeConfig } from './runtime-config';
import { withPeerService } from './telemetry/peer-service';

export interface HttpClientOptions {
  /**
   * Name of the peer, its service.name: in error details ("service-b did not answer within 2000 ms"),
   * as the breaker's `peer` label, and as `server.service.name` on the client spans.
   */
  peer: string;
  baseURL: string;
  /** Budget of one call, retries included. */
  timeoutMs: number;
  maxResponseBytes?: number;
  /** Retries of idempotent calls (default HTTP_RETRIES, 2); 0 for none. */
  retries?: number;
  /**
   * Circuit breaker (default on: HTTP_BREAKER_THRESHOLD consecutive failures open it for
   * HTTP_BREAKER_HALF_OPEN_MS). Off for readiness probes, which must report the peer as it is now.
   */
  breaker?: boolean | { threshold?: number; halfOpenAfterMs?: number };
}

export interface CallOptions {
  method?: string;
  /** The path, appended to baseURL's. */
  url?: string;
  headers?: Record<string, string>;
  /** A Buffer is sent as it is; anything else as JSON. */
  data?: unknown;
  /** Budget of this call, retries included (default: the client's timeoutMs). */
  timeout?: number;
  /**
   * Safe to send twice. GET and HEAD are; POST only when the caller says so (a prediction is a pure
   * function of its input; an order is not).
   */
  idempotent?: boolean;
}

export interface PeerResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string>;
}

/** 0 closed, 1 half-open, 2 open: higher is worse, so alerts can use `> 0` or `== 2`. */
export const circuitBreakerState =
  (register.getSingleMetric('circuit_breaker_state') as Gauge<'peer'> | undefined) ??
  new Gauge({
    name: 'circuit_breaker_state',
    help: 'State of the circuit breaker of outbound calls to a peer: 0 closed, 1 half-open, 2 open',
    labelNames: ['peer'],
  });

const STATE_VALUE: Record<CircuitState, number> = {
  [CircuitState.Closed]: 0,
  [CircuitState.HalfOpen]: 1,
  [CircuitState.Open]: 2,
  [CircuitState.Isolated]: 2,
};

/** Connection-level failures worth another attempt: the peer restarting, a reset keep-alive socket. */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
const RETRYABLE_STATUSES = new Set([502, 503, 504]);
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 1000;
/** Below this much budget left, another attempt would only time out. */
const MIN_ATTEMPT_MS = 50;

/** What the breaker counts as a failure: the peer did not answer, or answered 5xx. */
class PeerFailure extends Error {
  constructor(
    readonly problem: ProblemException,
    readonly retryable: boolean,
  ) {
    super(problem.message);
  }
}

/** The answer was larger than maxResponseBytes. */
class TooLarge extends Error {}

/** The call's own deadline passed (as opposed to the peer or the network failing). */
class TimedOut extends Error {}

/**
 * A keep-alive agent. Node's built-in proxy support is switched on where the standard variables
 * (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) name a proxy, as most HTTP clients do.
 */
function keepAliveAgent(secure: boolean): http.Agent {
  const env = process.env;
  const proxy = env.HTTP_PROXY || env.http_proxy || env.HTTPS_PROXY || env.https_proxy;
  const options = { keepAlive: true, ...(proxy ? { proxyEnv: env } : {}) } as http.AgentOptions;
  return secure ? new https.Agent(options) : new http.Agent(options);
}

/**
 * Outbound HTTP with the resilience every Meridian call needs: a time budget per call (retries
 * included), bounded retries with jittered exponential backoff for idempotent calls only, and a
 * circuit breaker per peer. The calls are node:http requests on keep-alive connections (a few tens
 * of microseconds of CPU each, where axios took about 180); trace context and baggage are injected
 * by the http instrumentation, which makes the client span. Failures become problem+json: 504 when
 * the peer is too slow, 502 when it is unreachable or answers 5xx, 503 `upstream-circuit-open` with
 * Retry-After while the breaker is open.
 */
export class HttpClient {
  private readonly agent: http.Agent;
  private readonly base: URL;
  /** baseURL's path, without its trailing slash: calls go to prefix + path. */
  private readonly prefix: string;
  private readonly maxResponseBytes: number;
  private readonly retries: number;
  private readonly breaker?: CircuitBreakerPolicy;
  private readonly halfOpenAfterMs: number;
  private openedAt = 0;

  constructor(private readonly options: HttpClientOptions) {
    this.base = new URL(options.baseURL);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.agent = keepAliveAgent(this.base.protocol === 'https:');
    this.maxResponseBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    const rc = runtimeConfig();
    this.retries = options.retries ?? rc.HTTP_RETRIES;
    const b = options.breaker ?? true;
    const settings = typeof b === 'object' ? b : {};
    this.halfOpenAfterMs = settings.halfOpenAfterMs ?? rc.HTTP_BREAKER_HALF_OPEN_MS;
    if (b !== false) {
      this.breaker = circuitBreaker(
        handleWhen((err) => err instanceof PeerFailure),
        { halfOpenAfter: this.halfOpenAfterMs, breaker: new ConsecutiveBreaker(settings.threshold ?? rc.HTTP_BREAKER_THRESHOLD) },
      );
      this.breaker.onBreak(() => (this.openedAt = Date.now()));
      this.breaker.onStateChange((state) => circuitBreakerState.set({ peer: options.peer }, STATE_VALUE[state]));
      circuitBreakerState.set({ peer: options.peer }, 0);
    }
  }

  get peer(): string {
    return this.options.peer;
  }

  /** Closed, half-open or open, as the metric reports it. */
  get breakerState(): 'closed' | 'half-open' | 'open' {
    const v = this.breaker ? STATE_VALUE[this.breaker.state] : 0;
    return v === 0 ? 'closed' : v === 1 ? 'half-open' : 'open';
  }

  async request<T>(config: CallOptions): Promise<PeerResponse<T>> {
    const method = (config.method ?? 'GET').toUpperCase();
    const canRetry = config.idempotent ?? (method === 'GET' || method === 'HEAD');
    const budgetMs = config.timeout ?? this.options.timeoutMs;
    const deadline = Date.now() + budgetMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, config, deadline, budgetMs);
      } catch (err) {
        if (err instanceof BrokenCircuitError) throw this.circuitOpen();
        if (!(err instanceof PeerFailure)) throw err;
        const backoff = Math.random() * Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
        const left = deadline - Date.now() - backoff;
        if (!canRetry || !err.retryable || attempt >= this.retries || left < MIN_ATTEMPT_MS) throw err.problem;
        // Full jitter: callers that failed together do not come back together.
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  get<T>(path: string, config: CallOptions = {}): Promise<PeerResponse<T>> {
    return this.request<T>({ ...config, method: 'GET', url: path });
  }

  post<T>(path: string, body: unknown, config: CallOptions = {}): Promise<PeerResponse<T>> {
    return this.request<T>({ ...config, method: 'POST', url: path, data: body });
  }

  /** Closes the kept-alive connections (at shutdown, or in a test). */
  close(): void {
    this.agent.destroy();
  }

  private attempt<T>(method: string, config: CallOptions, deadline: number, budgetMs: number): Promise<PeerResponse<T>> {
    const once = async (): Promise<PeerResponse<T>> => {
      if (faultState.active['downstream-unreachable']) {
        markFault('downstream-unreachable');
        throw new PeerFailure(new ProblemException(502, `${this.options.peer} is unreachable (downstream-unreachable fault)`, 'upstream-unavailable'), true);
      }
      let res: PeerResponse<T>;
      try {
        res = await withPeerService(this.options.peer, () => this.send<T>(method, config, Math.max(1, deadline - Date.now())));
      } catch (err) {
        throw this.failure(err, budgetMs);
      }
      if (res.status >= 500) {
        const retryAfter = res.headers['retry-after'];
        const p =
          res.status === 503 && retryAfter
            ? new ProblemException(503, `${this.options.peer} is unavailable`, 'upstream-unavailable', { upstreamStatus: 503 }, { 'retry-after': String(retryAfter) })
            : new ProblemException(502, `${this.options.peer} answered ${res.status}`, 'upstream-error', { upstreamStatus: res.status });
        throw new PeerFailure(p, RETRYABLE_STATUSES.has(res.status));
      }
      return res;
    };
    return this.breaker ? this.breaker.execute(once) : once();
  }

  /** One request within timeoutMs, the answer's body read whole (up to maxResponseBytes) and parsed when it is JSON. */
  private send<T>(method: string, config: CallOptions, timeoutMs: number): Promise<PeerResponse<T>> {
    const headers: Record<string, string> = { ...config.headers };
    let body: Buffer | undefined;
    if (Buffer.isBuffer(config.data)) body = config.data;
    else if (config.data !== undefined) {
      body = Buffer.from(JSON.stringify(config.data));
      headers['content-type'] ??= 'application/json';
    }
    if (body) headers['content-length'] = String(body.length);
    const transport = this.base.protocol === 'https:' ? https : http;
    return new Promise<PeerResponse<T>>((resolve, reject) => {
      const req = transport.request(
        { protocol: this.base.protocol, hostname: this.base.hostname, port: this.base.port, path: this.prefix + (config.url ?? '/'), method, headers, agent: this.agent },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxResponseBytes) req.destroy(new TooLarge());
            else chunks.push(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const responseHeaders: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
            const text = Buffer.concat(chunks, size).toString('utf8');
            resolve({ status: res.statusCode ?? 0, data: parseBody(text, responseHeaders['content-type']) as T, headers: responseHeaders });
          });
          res.on('error', fail);
        },
      );
      const timer = setTimeout(() => req.destroy(new TimedOut()), timeoutMs);
      function fail(err: Error) {
        clearTimeout(timer);
        reject(err);
      }
      req.on('error', fail);
      req.end(body);
    });
  }

  private failure(err: unknown, budgetMs: number): PeerFailure {
    if (err instanceof TimedOut) {
      return new PeerFailure(new ProblemException(504, `${this.options.peer} did not answer within ${budgetMs} ms`, 'upstream-timeout'), false);
    }
    if (err instanceof TooLarge) {
      return new PeerFailure(new ProblemException(502, `${this.options.peer} answered more than allowed`, 'upstream-error'), false);
    }
    const e = err as { code?: string; message?: string } | undefined;
    const code = e?.code ?? '';
    // "socket hang up": a kept-alive connection the peer closed as the request went out.
    return new PeerFailure(
      new ProblemException(502, `${this.options.peer} is unreachable (${code || 'error'})`, 'upstream-unavailable'),
      RETRYABLE_CODES.has(code) || /socket hang up/i.test(e?.message ?? ''),
    );
  }

  private circuitOpen(): ProblemException {
    const seconds = Math.max(1, Math.ceil((this.openedAt + this.halfOpenAfterMs - Date.now()) / 1000));
    return new ProblemException(
      503,
      `calls to ${this.options.peer} are suspended after repeated failures; retry in ${seconds} s`,
      'upstream-circuit-open',
      { peer: this.options.peer, retryAfterSeconds: seconds },
      { 'retry-after': String(seconds) },
    );
  }
}

/** JSON when the answer says so and parses; the text otherwise. */
function parseBody(text: string, contentType: string | undefined): unknown {
  if (!contentType || !/[/+]json\b/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Runs fn with extra baggage entries, so every outbound call made inside carries them. */
export function withBaggage<T>(entries: Record<string, string>, fn: () => T): T {
  const current = propagation.getBaggage(context.active()) ?? propagation.createBaggage();
  let baggage = current;
  for (const [key, value] of Object.entries(entries)) baggage = baggage.setEntry(key, { value });
  return context.with(propagation.setBaggage(context.active(), baggage), fn);
}
