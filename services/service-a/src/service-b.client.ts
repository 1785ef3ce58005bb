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

  constructor(private readonly readiness: ReadinessRegistry) {}

  onModuleInit(): void {
    // service-a is only ready when service-b answers, so traffic is not sent to a half-working pair.
    this.readiness.add('service-b', async () => {
      const res = await this.http.get('/healthy', { timeout: 1000 });
      if (res.status !== 200) throw new Error(`service-b /healthy answered ${res.status}`);
    });
  }

  async data(): Promise<ServiceBData> {
    const res = await this.http.get<ServiceBData>('/data');
    if (res.status !== 200) throw new Error(`service-b /data answered ${res.status}`);
    return res.data;
  }
}
