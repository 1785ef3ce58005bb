import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpClient, ReadinessRegistry } from '@meridian/service-kit';
import { config } from './config';

export interface ServiceBData {
  service: string;
  items: { id: number; name: string; value: number }[];
  generatedAt: string;
}

@Injectable()
export class ServiceBClient implements OnModuleInit {
  private readonly http = new HttpClient({ peer: 'service-b', baseURL: config.SERVICE_B_URL, timeoutMs: config.SERVICE_B_TIMEOUT_MS });
  /** Readiness reports service-b as it is now: no retries, and no breaker to keep it "down" after it is back. */
  private readonly probe = new HttpClient({
    peer: 'service-b',
    baseURL: config.SERVICE_B_URL,
    timeoutMs: Math.min(1000, config.SERVICE_B_TIMEOUT_MS),
    retries: 0,
    breaker: false,
  });

  constructor(private readonly readiness: ReadinessRegistry) {}

  onModuleInit(): void {
    // service-a is only ready when service-b answers, so traffic is not sent to a half-working pair.
    this.readiness.add('service-b', async () => {
      const res = await this.probe.get('/healthy');
      if (res.status !== 200) throw new Error(`service-b /healthy answered ${res.status}`);
    });
  }

  async data(): Promise<ServiceBData> {
    const res = await this.http.get<ServiceBData>('/data');
    if (res.status !== 200) throw new Error(`service-b /data answered ${res.status}`);
    return res.data;
  }
}
