import { Controller, Get, Logger } from '@nestjs/common';

/** The data service-a fetches through /call-service-b. */
@Controller()
export class DataController {
  private readonly logger = new Logger(DataController.name);

  @Get()
  index() {
    return {
      service: 'service-b',
      status: 'ok',
      links: { data: '/data', healthy: '/healthy', ready: '/ready', metrics: '/metrics' },
    };
  }

  @Get('data')
  data() {
    const items = [
      { id: 1, name: 'alpha', value: 42 },
      { id: 2, name: 'beta', value: 7 },
      { id: 3, name: 'gamma', value: 19 },
    ];
    this.logger.log({ items: items.length }, 'serving data');
    return { service: 'service-b', items, generatedAt: new Date().toISOString() };
  }
}
