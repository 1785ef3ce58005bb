import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { FastifyRequest } from 'fastify';
import type { SchemaObject } from './openapi';
import { mediaType } from './content-type.guard';
import { ProblemException } from './problem';

const FORM = 'application/x-www-form-urlencoded';

/**
 * JSON bodies are checked as they are; form bodies carry every value as text, so their numbers and
 * booleans are read from it first (`iterations=3`). Defaults in the schema are filled in.
 */
const strict = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const coercing = new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false });
const compiled = new WeakMap<SchemaObject, { json: ValidateFunction; form: ValidateFunction }>();

function validators(schema: SchemaObject): { json: ValidateFunction; form: ValidateFunction } {
  let v = compiled.get(schema);
  if (!v) {
    v = { json: strict.compile(schema), form: coercing.compile(schema) };
    compiled.set(schema, v);
  }
  return v;
}

/** One entry per problem, named by the field it is about. */
export function schemaErrors(errors: ErrorObject[]): { field: string; message: string }[] {
  return errors.map((e) => {
    const path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const at = (name: string) => (path ? `${path}.${name}` : name);
    if (e.keyword === 'required') {
      const field = at(String(e.params.missingProperty));
      return { field, message: `${field} is required` };
    }
    if (e.keyword === 'additionalProperties') {
      const field = at(String(e.params.additionalProperty));
      return { field, message: `${field} is not allowed` };
    }
    return { field: path, message: path ? `${path} ${e.message ?? 'is invalid'}` : `the body ${e.message ?? 'is invalid'}` };
  });
}

/** Checks a parsed body against the schema; answers 400 `validation-error` problem+json with every problem found. */
export function checkBody<T>(schema: SchemaObject, body: unknown, contentType: string | undefined): T {
  const form = mediaType(contentType) === FORM;
  const { json, form: formValidator } = validators(schema);
  const validate = form ? formValidator : json;
  if (validate(body)) return body as T;
  const list = schemaErrors(validate.errors ?? []);
  throw new ProblemException(400, list.map((e) => e.message).join('; ') || 'invalid request', 'validation-error', { errors: list });
}

/**
 * The request body, checked against the JSON schema that the route's OpenAPI document shows
 * (`@ApiRequestBody`), so that the document and the check cannot disagree:
 *   hash(@SchemaBody(HASH_REQUEST_SCHEMA) body: HashRequest)
 * The check is one compiled ajv function, compiled once per schema.
 */
export const SchemaBody = createParamDecorator((schema: SchemaObject, ctx: ExecutionContext) => {
  const request = ctx.switchToHttp().getRequest<FastifyRequest>();
  return checkBody(schema, request.body, request.headers['content-type']);
});
