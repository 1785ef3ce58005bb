import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { EnsembleService, EnsemblePrediction } from './ensemble.service';
import { parseTensorRequest } from './tensor';

/** POST /ensemble on the ensemble role. */
@Controller()
export class EnsembleController {
  constructor(private readonly ensemble: EnsembleService) {}

  @Post('ensemble')
  @HttpCode(200)
  predict(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('x-tensor-shape') shape: string | undefined,
  ): Promise<EnsemblePrediction> {
    return this.ensemble.predict(parseTensorRequest(body, contentType, shape));
  }
}
