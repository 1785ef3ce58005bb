import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ModelService, Prediction } from './model.service';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProblems, ApiRequestBody } from '@meridian/service-kit';
import { PREDICTION_SCHEMA, SHAPE_HEADER } from './openapi-schemas';
import { parseTensorRequest, TENSOR_REQUEST_CONTENT } from './tensor';

/** POST /predict on the model roles (efficientnetb0, mobilenetv2). */
@Controller()
export class PredictController {
  constructor(private readonly model: ModelService) {}

  @Post('predict')
  @HttpCode(200)
  @ApiOperation({ summary: "Classifies one 1x3x224x224 tensor with this role's model" })
  @ApiRequestBody(TENSOR_REQUEST_CONTENT)
  @ApiHeader(SHAPE_HEADER)
  @ApiOkResponse({ description: 'The prediction', schema: PREDICTION_SCHEMA })
  @ApiProblems(400, 413, 415, 503)
  predict(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('x-tensor-shape') shape: string | undefined,
  ): Promise<Prediction> {
    return this.model.predict(parseTensorRequest(body, contentType, shape));
  }
}
