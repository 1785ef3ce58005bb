import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, Get, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiOkResponse, ApiOperation, ApiProblems, ApiRequestBody, ApiTags, buildOpenApiDocument, PROBLEM_SCHEMA } from '../src';

// Each test file runs in its own process, so what this one has required is all that is in the cache.
const swaggerLoaded = () => Object.keys(require.cache).some((file) => file.includes('/@nestjs/swagger/'));

@ApiTags('things')
@Controller()
class ThingController {
  @Get('thing')
  @ApiOperation({ summary: 'One thing' })
  @ApiOkResponse({ description: 'The thing', schema: { type: 'object', properties: { name: { type: 'string' } } } })
  @ApiProblems(404, 503)
  thing() {
    return { name: 'x' };
  }

  @Post('thing')
  @ApiOperation({ summary: 'Makes a thing' })
  @ApiRequestBody({ 'application/json': { type: 'object', required: ['name'] } })
  @ApiProblems(400)
  make() {
    return {};
  }
}

@Module({ controllers: [ThingController] })
class ThingModule {}

test('the OpenAPI decorators do not load @nestjs/swagger; the document, built when asked for, has everything they said', async () => {
  assert.equal(swaggerLoaded(), false, 'defining a documented controller loaded @nestjs/swagger');
  const app = await NestFactory.create<NestFastifyApplication>(ThingModule, new FastifyAdapter(), { logger: false });
  try {
    const doc = buildOpenApiDocument(app, 'thing-service', '1.2.3');
    assert.equal(swaggerLoaded(), true);
    assert.equal(doc.info.title, 'thing-service');
    assert.equal(doc.info.version, '1.2.3');
    assert.deepEqual(doc.components?.schemas?.Problem, PROBLEM_SCHEMA);

    const get = doc.paths['/thing'].get!;
    assert.equal(get.summary, 'One thing');
    assert.deepEqual(get.tags, ['things']);
    // Every response the decorators named, in one merged list, errors as problem+json.
    assert.deepEqual(Object.keys(get.responses).sort(), ['200', '404', '503', 'default']);
    assert.equal((get.responses['200'] as { description: string }).description, 'The thing');
    for (const status of ['404', '503', 'default']) {
      const content = (get.responses[status] as { content: Record<string, unknown> }).content;
      assert.deepEqual(Object.keys(content), ['application/problem+json'], status);
    }

    const post = doc.paths['/thing'].post!;
    assert.equal(post.summary, 'Makes a thing');
    assert.deepEqual(post.requestBody, { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name'] } } } });
    assert.ok(!('x-meridian-request-body' in post), 'the request-body extension is turned into requestBody');
    assert.deepEqual(Object.keys(post.responses).sort(), ['400', 'default']);
  } finally {
    await app.close();
  }
});
