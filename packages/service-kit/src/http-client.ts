import axios, { AxiosError, AxiosInstance, AxiosRequestConfig } from 'axios';
import http from 'node:http';
import https from 'node:https';
import { context, propagation } from '@opentelemetry/api';
import { ProblemException } from './problem';

export interface HttpClientOptions {
  /** Name of the peer, used in error details ("service-b did not answer within 2000 ms"). */
  peer: string;
  baseURL: string;
  timeoutMs: number;
  maxResponseBytes?: number;
}

export interface PeerResponse<T> {
  status: number;
  data: T;
  headers: Record<string, string>;
}

/**
 * Outbound HTTP with a timeout on every call. trace context and baggage are injected by the http
 * instrumentation. Failures become problem+json: 504 when the peer is too slow, 502 when it is
 * unreachable or answers 5xx.
 */
export class HttpClient {
  private readonly axios: AxiosInstance;

  constructor(private readonly options: HttpClientOptions) {
    this.axios = axios.create({
      baseURL: options.baseURL,
      timeout: options.timeoutMs,
      maxContentLength: options.maxResponseBytes ?? 8 * 1024 * 1024,
      httpAgent: new http.Agent({ keepAlive: true }),
      httpsAgent: new https.Agent({ keepAlive: true }),
      // Statuses are turned into problems below, not thrown by axios.
      validateStatus: () => true,
    });
  }

  get peer(): string {
    return this.options.peer;
  }

  async request<T>(config: AxiosRequestConfig): Promise<PeerResponse<T>> {
    let res;
    try {
      res = await this.axios.request<T>(config);
    } catch (err) {
      throw this.toProblem(err);
    }
    if (res.status >= 500) {
      throw new ProblemException(502, `${this.options.peer} answered ${res.status}`, 'upstream-error', { upstreamStatus: res.status });
    }
    return { status: res.status, data: res.data, headers: res.headers as Record<string, string> };
  }

  get<T>(path: string, config: AxiosRequestConfig = {}): Promise<PeerResponse<T>> {
    return this.request<T>({ ...config, method: 'GET', url: path });
  }

  post<T>(path: string, body: unknown, config: AxiosRequestConfig = {}): Promise<PeerResponse<T>> {
    return this.request<T>({ ...config, method: 'POST', url: path, data: body });
  }

  private toProblem(err: unknown): ProblemException {
    const e = err as AxiosError;
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || e.code === AxiosError.ERR_CANCELED) {
      return new ProblemException(504, `${this.options.peer} did not answer within ${this.options.timeoutMs} ms`, 'upstream-timeout');
    }
    if (e.code === AxiosError.ERR_BAD_RESPONSE && /maxContentLength/.test(e.message)) {
      return new ProblemException(502, `${this.options.peer} answered more than allowed`, 'upstream-error');
    }
    return new ProblemException(502, `${this.options.peer} is unreachable (${e.code ?? 'error'})`, 'upstream-unavailable');
  }
}

/** Runs fn with extra baggage entries, so every outbound call made inside carries them. */
export function withBaggage<T>(entries: Record<string, string>, fn: () => T): T {
  const current = propagation.getBaggage(context.active()) ?? propagation.createBaggage();
  let baggage = current;
  for (const [key, value] of Object.entries(entries)) baggage = baggage.setEntry(key, { value });
  return context.with(propagation.setBaggage(context.active(), baggage), fn);
}
