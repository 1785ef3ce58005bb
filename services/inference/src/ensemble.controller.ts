import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { EnsembleService, EnsemblePrediction } from './ensemble.service';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProblems, ApiRequestBody } from '@meridian/service-kit';
import { ENSEMBLE_SCHEMA, SHAPE_HEADER } from './openapi-schemas';
import { parseTensorRequest, TENSOR_REQUEST_CONTENT } from './tensor';

/** POST /ensemble on the ensemble role. */
@Controller()
export class EnsembleController {
  constructor(private readonly ensemble: EnsembleService) {}

  @Post('ensemble')
  @HttpCode(200)
  @ApiOperation({ summary: 'Asks both models in parallel and averages their probabilities; degrades to one model when the other fails' })
  @ApiRequestBody(TENSOR_REQUEST_CONTENT)
  @ApiHeader(SHAPE_HEADER)
  @ApiOkResponse({ description: 'The prediction', schema: ENSEMBLE_SCHEMA })
  @ApiProblems(400, 413, 415, 502, 503, 504)
  predict(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('x-tensor-shape') shape: string | undefined,
  ): Promise<EnsemblePrediction> {
    return this.ensemble.predict(parseTensorRequest(body, contentType, shape));
  }
}
