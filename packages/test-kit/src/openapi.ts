import assert from 'node:assert/strict';
import { request } from './http';

export type OpenApiDoc = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, { required?: string[] }> };
};

/**
 * Fetches `${url}/openapi.json` and checks what every Meridian document must have: OpenAPI 3,
 * the title, exactly `routes` plus the health and metrics routes, every error as problem+json with
 * a `default`, a success body (except on the paths in `failOnly`), and helmet's headers. Answers it
 * for the service's own checks.
 */
export async function checkOpenApiDocument(url: string, title: string, routes: string[], failOnly: string[] = []): Promise<OpenApiDoc> {
  const res = await request(url + '/openapi.json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const doc = res.json as OpenApiDoc;
  assert.match(doc.openapi, /^3\./);
  assert.equal(doc.info.title, title);
  const operations = Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`));
  assert.deepEqual(operations.sort(), [...routes, 'GET /healthy', 'GET /metrics', 'GET /ready'].sort(), 'every route, and only those');
  assert.deepEqual(doc.components.schemas.Problem.required, ['type', 'title', 'status']);
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      const errors = Object.entries(op.responses).filter(([status]) => status === 'default' || Number(status) >= 400);
      assert.ok(errors.some(([status]) => status === 'default'), `${m} ${p} documents its other errors`);
      for (const [status, r] of errors) {
        assert.deepEqual(r.content, { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } }, `${m} ${p} ${status} is problem+json`);
      }
      if (failOnly.includes(p)) continue;
      const ok = Object.entries(op.responses).find(([status]) => /^2/.test(status));
      assert.ok(ok?.[1].content, `${m} ${p} documents its success body`);
    }
  }
  // Security headers from helmet on every answer, the document included.
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  return doc;
}
