import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ModelService, Prediction } from './model.service';
import { parseTensorRequest } from './tensor';

/** POST /predict on the model roles (efficientnetb0, mobilenetv2). */
@Controller()
export class PredictController {
  constructor(private readonly model: ModelService) {}

  @Post('predict')
  @HttpCode(200)
  predict(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('x-tensor-shape') shape: string | undefined,
  ): Promise<Prediction> {
    return this.model.predict(parseTensorRequest(body, contentType, shape));
  }
}
