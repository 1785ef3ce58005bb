import assert from 'node:assert/strict';
import type { HttpResult } from './http';

/** Asserts an RFC 9457 answer: status, content type, stable type, no stack trace. */
export function assertProblem(res: HttpResult, status: number, slug?: string): void {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, 'content type');
  assert.equal(res.json?.status, status, 'problem.status');
  assert.match(String(res.json?.type), /^urn:meridian:problem:[a-z0-9-]+$/, 'problem.type');
  if (slug) assert.equal(res.json.type, `urn:meridian:problem:${slug}`);
  assert.equal(typeof res.json.title, 'string');
  assert.doesNotMatch(res.text, /\bat .+\.(js|ts):\d+/, 'no stack trace in the answer');
}

/** A W3C traceparent with fresh random ids, and the trace id it carries. */
export function newTraceparent(): { traceparent: string; traceId: string } {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const traceId = hex(32);
  return { traceparent: `00-${traceId}-${hex(16)}-01`, traceId };
}
