import { applyDecorators } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { OpenAPIObject, OperationObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from './problem';

export type { OpenAPIObject, SchemaObject } from '@nestjs/swagger';

type Swagger = typeof import('@nestjs/swagger');
type AnyDecorator = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => void;

/**
 * The OpenAPI decorators are recorded when the classes are defined and applied to them when the
 * document is first asked for. @nestjs/swagger (with lodash and js-yaml, about 5 MiB per process)
 * is thus loaded only by a process that serves its document, not by every service at start.
 */
const recorded: (() => void)[] = [];
let swaggerModule: Swagger | undefined;

function swagger(): Swagger {
  if (!swaggerModule) {
    swaggerModule = require('@nestjs/swagger') as Swagger;
    // In the order the decorators ran, so that those which merge (several responses) merge the same way.
    for (const apply of recorded.splice(0)) apply();
  }
  return swaggerModule;
}

function deferred<K extends keyof Swagger>(name: K): Swagger[K] {
  const decoratorFactory = (...args: unknown[]): AnyDecorator => (target, key, descriptor) => {
    const apply = () => ((swagger()[name] as (...a: unknown[]) => AnyDecorator)(...args))(target, key, descriptor);
    if (swaggerModule) apply();
    else recorded.push(apply);
  };
  return decoratorFactory as unknown as Swagger[K];
}

// The decorators services use, re-exported so every service documents itself through one package.
export const ApiAcceptedResponse = deferred('ApiAcceptedResponse');
export const ApiExtension = deferred('ApiExtension');
export const ApiHeader = deferred('ApiHeader');
export const ApiOkResponse = deferred('ApiOkResponse');
export const ApiOperation = deferred('ApiOperation');
export const ApiProduces = deferred('ApiProduces');
export const ApiResponse = deferred('ApiResponse');
export const ApiTags = deferred('ApiTags');

export const OPENAPI_PATH = '/openapi.json';

/** RFC 9457 problem details as every Meridian service answers them. */
export const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'RFC 9457 problem details. `type` is stable per kind of problem (urn:meridian:problem:<slug>).',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', pattern: '^urn:meridian:problem:[a-z0-9-]+$', example: 'urn:meridian:problem:validation-error' },
    title: { type: 'string', example: 'Bad request' },
    status: { type: 'integer', minimum: 400, maximum: 599, example: 400 },
    detail: { type: 'string' },
    instance: { type: 'string', description: 'The path of the request' },
  },
  additionalProperties: true,
};

const PROBLEM_REF: ReferenceObject = { $ref: '#/components/schemas/Problem' };
const REQUEST_BODY_EXTENSION = 'x-meridian-request-body';

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (problem+json)',
  403: 'Forbidden (problem+json)',
  404: 'Not found (problem+json)',
  413: 'Body too large (problem+json)',
  415: 'Unsupported content type (problem+json)',
  422: 'Unprocessable content (problem+json)',
  500: 'Server error (problem+json)',
  502: 'A peer failed (problem+json)',
  503: 'Unavailable; see Retry-After (problem+json)',
  504: 'A peer was too slow (problem+json)',
};

/** Documents problem+json answers for these statuses (the schema is filled in when the document is built). */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, description: PROBLEM_DESCRIPTIONS[status] ?? 'Error (problem+json)' })));
}

/**
 * A request body with per-media-type schemas (raw images and multipart side by side, or binary and
 * JSON tensors), which @ApiBody cannot express.
 */
export function ApiRequestBody(content: Record<string, SchemaObject>, options: { description?: string; required?: boolean } = {}): MethodDecorator {
  return ApiExtension(REQUEST_BODY_EXTENSION, {
    required: options.required ?? true,
    ...(options.description ? { description: options.description } : {}),
    content: Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }])),
  }) as MethodDecorator;
}

/** `format: binary` for a raw body. */
export const BINARY_SCHEMA: SchemaObject = { type: 'string', format: 'binary' };

/**
 * The service's OpenAPI 3 document from its controllers' decorators, with every error answer
 * typed as problem+json: documented statuses get the Problem schema, and a `default` response
 * covers the rest.
 */
export function buildOpenApiDocument(app: NestFastifyApplication, serviceName: string, version: string, description?: string): OpenAPIObject {
  const { DocumentBuilder, SwaggerModule } = swagger();
  const config = new DocumentBuilder()
    .setTitle(serviceName)
    .setVersion(version)
    .setDescription(description ?? `${serviceName}, a Meridian service. Errors are RFC 9457 problem+json.`)
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Problem: PROBLEM_SCHEMA } };
  for (const item of Object.values(doc.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const) {
      const op = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      if (!op) continue;
      const body = op[REQUEST_BODY_EXTENSION] as OperationObject['requestBody'] | undefined;
      if (body) {
        op.requestBody = body;
        delete op[REQUEST_BODY_EXTENSION];
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && response && !('$ref' in response)) {
          response.content = { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } };
        }
      }
      op.responses.default ??= { description: 'Any other error (problem+json)', content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } } };
    }
  }
  return doc;
}
