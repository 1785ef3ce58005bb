import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { ApiOkResponse, ApiOperation } from '@meridian/service-kit';
import { INDEX_SCHEMA } from './openapi-schemas';
import { Config, SERVICE_NAME } from './config';
import { EnsembleService } from './ensemble.service';
import { ModelService } from './model.service';
import { CONFIG } from './tokens';
import { SHAPE_TEXT, TENSOR_BYTES } from './tensor';

/** GET /: what this process is, and where to go next. */
@Controller()
export class IndexController {
  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Optional() private readonly model?: ModelService,
    @Optional() private readonly ensemble?: EnsembleService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'What this process is (role, model or members), its input format and links' })
  @ApiOkResponse({ description: 'Status and links', schema: INDEX_SCHEMA })
  index() {
    const input = {
      'application/octet-stream': `${TENSOR_BYTES} bytes: little-endian float32, shape ${SHAPE_TEXT} (optional header x-tensor-shape: ${SHAPE_TEXT})`,
      'application/json': `{"shape": [${SHAPE_TEXT}], "data": [${TENSOR_BYTES / 4} numbers]}`,
    };
    const common = { healthy: '/healthy', ready: '/ready', metrics: '/metrics' };
    if (this.ensemble) {
      return {
        service: SERVICE_NAME,
        role: this.config.ROLE,
        status: 'ok',
        members: Object.fromEntries(this.ensemble.members.map((m) => [m.role, m.url])),
        timeoutMs: this.config.MODEL_TIMEOUT_MS,
        input,
        links: { ensemble: 'POST /ensemble', ...common },
      };
    }
    const info = this.model!.info();
    return {
      service: SERVICE_NAME,
      role: this.config.ROLE,
      status: info.loaded ? 'ok' : 'loading',
      model: info,
      input,
      links: { predict: 'POST /predict', ...common },
    };
  }
}
