// The test OTLP receiver's waitForTrace, fed OTLP/HTTP JSON the way a service's batch exporter sends
// it: a service's client span can arrive in an earlier batch than the server span it runs in.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OtlpReceiver } from '../src/otlp-receiver';

const receiver = new OtlpReceiver();
let url: string;
before(async () => (url = await receiver.start()));
after(() => receiver.stop());

const TRACE = 'a'.repeat(32);
const span = (spanId: string, parentSpanId: string, name: string, kind: number) => ({ traceId: TRACE, spanId, parentSpanId, name, kind, attributes: [] });
async function send(service: string, spans: ReturnType<typeof span>[]) {
  const body = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans }] }] };
  const res = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
}
const CALLER = 'c'.repeat(16);
const [SERVER, CLIENT, INTERNAL] = [2, 3, 1];

test('waitForTrace waits until every span but the entry server span has its parent, not only until every service is seen', async () => {
  // service-a's client span and service-b's server span first; service-a's server and handler spans later.
  await send('service-a', [span('3'.repeat(16), '2'.repeat(16), 'GET', CLIENT)]);
  await send('service-b', [span('4'.repeat(16), '3'.repeat(16), 'GET /data', SERVER)]);
  let done = false;
  const waiting = receiver.waitForTrace(TRACE, ['service-a', 'service-b'], 5000).then((spans) => ((done = true), spans));
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(done, false, 'both services seen, but the client span has no parent yet');
  await send('service-a', [span('1'.repeat(16), CALLER, 'GET /call-service-b', SERVER), span('2'.repeat(16), '1'.repeat(16), 'AppController.callServiceB', INTERNAL)]);
  assert.equal((await waiting).length, 4);
});

test('waitForTrace fails after its timeout naming the spans whose parent never came', async () => {
  const other = 'b'.repeat(32);
  await fetch(`${url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'service-a' } }] }, scopeSpans: [{ spans: [{ ...span('5'.repeat(16), '6'.repeat(16), 'GET', CLIENT), traceId: other }] }] }] }),
  });
  await assert.rejects(receiver.waitForTrace(other, ['service-a'], 300), /spans without their parent: service-a:GET/);
});
