import { Controller, Get, Logger } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, type SchemaObject } from '@meridian/service-kit';

const INDEX_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['service', 'status', 'links'],
  properties: {
    service: { type: 'string', enum: ['service-b'] },
    status: { type: 'string', enum: ['ok'] },
    links: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

const DATA_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['service', 'items', 'generatedAt'],
  properties: {
    service: { type: 'string', enum: ['service-b'] },
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'name', 'value'],
        properties: { id: { type: 'integer' }, name: { type: 'string' }, value: { type: 'number' } },
      },
    },
    generatedAt: { type: 'string', format: 'date-time' },
  },
};

/** The data service-a fetches through /call-service-b. */
@Controller()
export class DataController {
  private readonly logger = new Logger(DataController.name);

  @Get()
  @ApiOperation({ summary: 'Status and links' })
  @ApiOkResponse({ description: 'Status and links', schema: INDEX_SCHEMA })
  index() {
    return {
      service: 'service-b',
      status: 'ok',
      links: { data: '/data', healthy: '/healthy', ready: '/ready', metrics: '/metrics' },
    };
  }

  @Get('data')
  @ApiOperation({ summary: 'The data service-a relays' })
  @ApiOkResponse({ description: 'Three items and when they were made', schema: DATA_SCHEMA })
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
