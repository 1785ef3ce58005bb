import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBody, ProblemException, type SchemaObject } from '../src';

const SCHEMA: SchemaObject = {
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: {
    data: { type: 'string', maxLength: 8 },
    iterations: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
  },
};
const JSON_TYPE = 'application/json';
const FORM = 'application/x-www-form-urlencoded; charset=utf-8';

function problemOf(body: unknown, contentType = JSON_TYPE): { errors: { field: string; message: string }[]; detail: string } {
  try {
    checkBody(SCHEMA, body, contentType);
  } catch (err) {
    assert.ok(err instanceof ProblemException, String(err));
    const p = err.getResponse() as { status: number; type: string; detail: string; errors: { field: string; message: string }[] };
    assert.equal(p.status, 400);
    assert.equal(p.type, 'urn:meridian:problem:validation-error');
    return p;
  }
  assert.fail(`${JSON.stringify(body)} was accepted`);
}

test('a valid body passes, with the schema defaults filled in', () => {
  assert.deepEqual(checkBody(SCHEMA, { data: 'x' }, JSON_TYPE), { data: 'x', iterations: 1 });
  assert.deepEqual(checkBody(SCHEMA, { data: 'x', iterations: 3 }, JSON_TYPE), { data: 'x', iterations: 3 });
});

test('JSON values are taken as they are: a number is not a string, a string is not an integer', () => {
  assert.deepEqual(problemOf({ data: 5 }).errors, [{ field: 'data', message: 'data must be string' }]);
  assert.deepEqual(problemOf({ data: 'x', iterations: '3' }).errors, [{ field: 'iterations', message: 'iterations must be integer' }]);
});

test('form values are text: numbers are read from it, and text that is no number is refused', () => {
  assert.deepEqual(checkBody(SCHEMA, { data: 'x', iterations: '3' }, FORM), { data: 'x', iterations: 3 });
  assert.equal(problemOf({ data: 'x', iterations: 'abc' }, FORM).errors[0].field, 'iterations');
});

test('every problem is named by its field', () => {
  const p = problemOf({ iterations: 0, admin: true, extra: 1 });
  assert.deepEqual(
    p.errors.map((e) => e.message).sort(),
    ['admin is not allowed', 'data is required', 'extra is not allowed', 'iterations must be >= 1'].sort(),
  );
  assert.equal(p.detail, p.errors.map((e) => e.message).join('; '));
  assert.deepEqual(problemOf(null).errors, [{ field: '', message: 'the body must be object' }]);
  assert.deepEqual(problemOf({ data: 'x'.repeat(9) }).errors, [{ field: 'data', message: 'data must NOT have more than 8 characters' }]);
});
