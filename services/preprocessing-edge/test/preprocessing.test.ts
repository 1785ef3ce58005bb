import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OtlpReceiver, otlpTracingEnv, parsePrometheus, request, ServiceProcess, HttpResult } from '@meridian/test-kit';
import sharp from 'sharp';
import { ENSEMBLE_TIMINGS, ENSEMBLE_TOP5, FakeEnsemble, formBytes, multipart, sendOnOneConnection, noisePng, normalised, pngBomb, rawImage, SeenRequest, TINY_GIF, waitFor } from './helpers';

type Body = RequestInit['body'];

const SITE = 'edge-test-1';
const PLANE = 224 * 224;

/** The value the edge sent for channel c of output pixel (x, y). */
function sent(seen: SeenRequest, c: number, x: number, y: number): number {
  return seen.body.readFloatLE((c * PLANE + y * 224 + x) * 4);
}

function assertProblem(res: HttpResult, status: number, slug: string): void {
  assert.equal(res.status, status, `expected ${status} ${slug}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.json.type, `urn:meridian:problem:${slug}`, res.text);
  assert.equal(res.json.status, status);
  assert.equal(typeof res.json.detail, 'string');
  assert.doesNotMatch(res.text, /at .*\.js:\d+/, 'no stack trace');
}

describe('preprocessing-edge with a fake ensemble', { timeout: 120_000 }, () => {
  const fake = new FakeEnsemble();
  const otlp = new OtlpReceiver();
  let edge: ServiceProcess;
  let small: ServiceProcess;
  const gradient = rawImage(224, 224, (x, y) => [x, y, 128]);
  let firstTraceId = '';

  before(async () => {
    const ensembleUrl = await fake.start();
    const otlpUrl = await otlp.start();
    const tracing = otlpTracingEnv(otlpUrl);
    [edge, small] = await Promise.all([
      new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge', env: { INFERENCE_URL: ensembleUrl, EDGE_SITE_ID: SITE, ...tracing } }).start(),
      new ServiceProcess({ folder: 'preprocessing-edge', name: 'preprocessing-edge-small', env: { INFERENCE_URL: ensembleUrl, MAX_UPLOAD_BYTES: '4096' } }).start(),
    ]);
  });

  after(async () => {
    await Promise.all([edge?.stop(), small?.stop()]);
    await Promise.all([fake.stop(), otlp.stop()]);
  });

  const post = (body: Body, contentType?: string, to = () => edge) =>
    request(`${to().url}/preprocessing`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });

  /** The request the fake ensemble received within the given trace. */
  const seenIn = (traceId: string) => {
    const seen = fake.requests.find((r) => String(r.headers.traceparent ?? '').includes(traceId));
    assert.ok(seen, `the ensemble saw no request of trace ${traceId}`);
    return seen;
  };

  describe('images in, predictions out', () => {
    it('classifies a PNG sent as the raw body and sends the ensemble the normalised CHW tensor', async () => {
      const png = await gradient.clone().png().toBuffer();
      const res = await post(png, 'image/png');
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = res.json;
      assert.match(body.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(body.traceId, '0'.repeat(32));
      firstTraceId = body.traceId;
      assert.equal(body.site, SITE);
      assert.equal(body.model, 'ensemble');
      assert.equal(body.untrained, true);
      assert.deepEqual(body.top5, ENSEMBLE_TOP5);
      assert.deepEqual(body.ensembleTimings, ENSEMBLE_TIMINGS);
      assert.deepEqual(Object.keys(body.timings).sort(), ['decodeMs', 'inferenceMs', 'normalizeMs', 'resizeMs', 'totalMs']);
      for (const [k, v] of Object.entries(body.timings)) assert.ok(typeof v === 'number' && v >= 0, `${k} = ${v}`);
      assert.ok(body.timings.totalMs >= body.timings.decodeMs + body.timings.inferenceMs - 0.05);

      const seen = seenIn(body.traceId);
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/ensemble');
      assert.equal(seen.headers['content-type'], 'application/octet-stream');
      assert.equal(seen.headers['x-tensor-shape'], '1,3,224,224');
      assert.equal(seen.body.length, 602112);
      assert.match(String(seen.headers.baggage), new RegExp(`(^|,)\\s*meridian\\.site=${SITE}(;|,|$)`));
      assert.match(String(seen.headers.traceparent), new RegExp(`^00-${body.traceId}-[0-9a-f]{16}-0[01]$`));
      // Pixel (x, y) of the gradient is (x, y, 128); a 224x224 image is not resampled.
      for (const [x, y] of [[0, 0], [100, 50], [223, 223]]) {
        assert.ok(Math.abs(sent(seen, 0, x, y) - normalised(x, 0)) < 1e-5, `R at ${x},${y}`);
        assert.ok(Math.abs(sent(seen, 1, x, y) - normalised(y, 1)) < 1e-5, `G at ${x},${y}`);
        assert.ok(Math.abs(sent(seen, 2, x, y) - normalised(128, 2)) < 1e-5, `B at ${x},${y}`);
      }
      assert.equal(sent(seen, 0, 0, 0), Math.fround(normalised(0, 0)));
    });

    it('crops the centre of a wide image', async () => {
      // 448x224 covers 224x224 without scaling: the output is columns 112..335, whose R is x/2.
      const png = await rawImage(448, 224, (x, y) => [x >> 1, y, 7]).png().toBuffer();
      const res = await post(png, 'image/png');
      assert.equal(res.status, 200, res.text);
      const seen = seenIn(res.json.traceId);
      assert.ok(Math.abs(sent(seen, 0, 0, 0) - normalised(56, 0)) < 1e-5);
      assert.ok(Math.abs(sent(seen, 0, 223, 0) - normalised(167, 0)) < 1e-5);
      assert.ok(Math.abs(sent(seen, 1, 5, 200) - normalised(200, 1)) < 1e-5);
    });

    it('classifies a JPEG uploaded as multipart/form-data', async () => {
      const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 100, b: 50 } } }).jpeg({ quality: 95 }).toBuffer();
      const res = await request(`${edge.url}/preprocessing`, { method: 'POST', body: multipart([{ field: 'image', bytes: jpeg, type: 'image/jpeg', name: 'a.jpg' }]) });
      assert.equal(res.status, 200, res.text);
      const seen = seenIn(res.json.traceId);
      assert.equal(seen.body.length, 602112);
      // JPEG is lossy: within 3 levels of the colour.
      const tolerance = (c: 0 | 1 | 2) => 3 / 255 / [0.229, 0.224, 0.225][c];
      for (const c of [0, 1, 2] as const) {
        for (const [x, y] of [[0, 0], [223, 223]]) {
          assert.ok(Math.abs(sent(seen, c, x, y) - normalised([200, 100, 50][c], c)) < tolerance(c), `channel ${c} at ${x},${y}: ${sent(seen, c, x, y)}`);
        }
      }
    });

    it('accepts the file under any field name, next to text fields', async () => {
      const png = await gradient.clone().png().toBuffer();
      const res = await request(`${edge.url}/preprocessing`, {
        method: 'POST',
        body: multipart([{ field: 'photo', bytes: png, type: 'application/octet-stream', name: 'p.png' }], { note: 'hello' }),
      });
      assert.equal(res.status, 200, res.text);
    });

    it('classifies a lossless WebP exactly', async () => {
      const webp = await gradient.clone().webp({ lossless: true }).toBuffer();
      const res = await post(webp, 'image/webp');
      assert.equal(res.status, 200, res.text);
      const seen = seenIn(res.json.traceId);
      assert.ok(Math.abs(sent(seen, 0, 10, 20) - normalised(10, 0)) < 1e-5);
      assert.ok(Math.abs(sent(seen, 1, 10, 20) - normalised(20, 1)) < 1e-5);
    });

    it('drops the alpha channel of a PNG with transparency', async () => {
      const rgba = Buffer.alloc(224 * 224 * 4);
      for (let i = 0; i < 224 * 224; i++) rgba.set([30, 60, 90, i < 224 * 112 ? 255 : 128], i * 4);
      const png = await sharp(rgba, { raw: { width: 224, height: 224, channels: 4 } }).png().toBuffer();
      const res = await post(png, 'image/png');
      assert.equal(res.status, 200, res.text);
      const seen = seenIn(res.json.traceId);
      assert.equal(seen.body.length, 602112);
      assert.ok(Math.abs(sent(seen, 2, 0, 0) - normalised(90, 2)) < 1e-5);
    });

    it('classifies greyscale and 16-bit PNGs as RGB', async () => {
      const grey = await sharp(Buffer.alloc(64 * 64, 100), { raw: { width: 64, height: 64, channels: 1 } }).toColourspace('b-w').png().toBuffer();
      const deep = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 100, g: 100, b: 100 } } }).toColourspace('rgb16').png().toBuffer();
      assert.equal((await sharp(grey).metadata()).channels, 1);
      assert.equal((await sharp(deep).metadata()).depth, 'ushort');
      for (const png of [grey, deep]) {
        const res = await post(png, 'image/png');
        assert.equal(res.status, 200, res.text);
        const seen = seenIn(res.json.traceId);
        for (const c of [0, 1, 2] as const) assert.ok(Math.abs(sent(seen, c, 112, 112) - normalised(100, c)) < 0.02);
      }
    });

    it('applies the EXIF orientation before cropping', async () => {
      // Stored 300x200, left half red, right half blue; orientation 6 shows it turned 90° clockwise
      // (200x300, red on top). Unrotated, the bottom-left of the crop would be red.
      const jpeg = await rawImage(300, 200, (x) => (x < 150 ? [255, 0, 0] : [0, 0, 255]))
        .jpeg({ quality: 95 })
        .withMetadata({ orientation: 6 })
        .toBuffer();
      const res = await post(jpeg, 'image/jpeg');
      assert.equal(res.status, 200, res.text);
      const seen = seenIn(res.json.traceId);
      assert.ok(sent(seen, 0, 0, 0) > 2 && sent(seen, 2, 0, 0) < -1.5, 'top-left is red');
      assert.ok(sent(seen, 0, 0, 223) < -1.5 && sent(seen, 2, 0, 223) > 2, 'bottom-left is blue');
      const spans = await waitFor('decode span', () => {
        const s = otlp.trace(res.json.traceId).find((x) => x.name === 'preprocessing.decode');
        return s;
      });
      assert.equal(spans.attributes['image.width'], 200);
      assert.equal(spans.attributes['image.height'], 300);
      assert.equal(spans.attributes['image.orientation'], 6);
    });

    it('classifies a large (12 megapixel) JPEG', async () => {
      const jpeg = await sharp({ create: { width: 4000, height: 3000, channels: 3, background: '#4080c0' } }).jpeg().toBuffer();
      const res = await post(jpeg, 'image/jpeg');
      assert.equal(res.status, 200, res.text);
      const decode = await waitFor('decode span', () => otlp.trace(res.json.traceId).find((x) => x.name === 'preprocessing.decode'));
      assert.equal(decode.attributes['image.width'], 4000);
      assert.equal(decode.attributes['image.bytes'], jpeg.length);
    });
  });

  describe('telemetry', () => {
    it('traces each stage as a child span and carries the site as baggage', async () => {
      assert.ok(firstTraceId, 'the first test produced a trace');
      const spans = await waitFor('stage and client spans', () => {
        const s = otlp.trace(firstTraceId);
        const names = new Set(s.map((x) => x.name));
        const seen = seenIn(firstTraceId);
        const clientSpanId = String(seen.headers.traceparent).split('-')[2];
        return ['preprocessing.decode', 'preprocessing.resize', 'preprocessing.normalize'].every((n) => names.has(n)) &&
          s.some((x) => x.spanId === clientSpanId)
          ? s
          : undefined;
      });
      assert.ok(spans.every((s) => s.service === 'preprocessing-edge'));
      const byName = (n: string) => spans.find((s) => s.name === n)!;
      const decode = byName('preprocessing.decode');
      assert.equal(decode.attributes['image.format'], 'png');
      assert.equal(decode.attributes['image.width'], 224);
      assert.equal(decode.attributes['image.height'], 224);
      assert.ok(Number(decode.attributes['image.bytes']) > 0);
      assert.equal(byName('preprocessing.resize').attributes['image.output_bytes'], 224 * 224 * 3);
      assert.equal(byName('preprocessing.normalize').attributes['tensor.bytes'], 602112);
      // The stages are siblings under the request's handler span.
      const parents = new Set(['preprocessing.decode', 'preprocessing.resize', 'preprocessing.normalize'].map((n) => byName(n).parentSpanId));
      assert.equal(parents.size, 1);
      assert.ok(spans.some((s) => s.spanId === [...parents][0]), 'the parent span is in the trace');
      for (const n of ['preprocessing.decode', 'preprocessing.resize', 'preprocessing.normalize']) assert.equal(byName(n).attributes['meridian.site'], SITE);
      // The outbound call to the ensemble is the parent the ensemble was given.
      const clientSpanId = String(seenIn(firstTraceId).headers.traceparent).split('-')[2];
      const client = spans.find((s) => s.spanId === clientSpanId)!;
      assert.equal(client.kind, 3, 'a client span');
      assert.equal(client.attributes['meridian.site'], SITE);
    });

    it('does not trace the readiness probe of the ensemble', () => {
      const probes = otlp.spans.filter((s) => Object.values(s.attributes).some((v) => String(v).includes('/healthy')));
      assert.deepEqual(probes.map((s) => s.name), []);
    });

    it('writes log lines with the trace id of the request', async () => {
      const lines = await waitFor('log lines of the first request', () => {
        const l = edge.logs().filter((x) => x.trace_id === firstTraceId);
        return l.some((x) => x.msg === 'image classified') ? l : undefined;
      });
      const classified = lines.find((x) => x.msg === 'image classified')!;
      assert.equal(classified.service, 'preprocessing-edge');
      assert.match(String(classified.span_id), /^[0-9a-f]{16}$/);
      assert.equal(classified.format, 'png');
    });

    it('exposes stage durations and request counts at /metrics', async () => {
      const res = await request(`${edge.url}/metrics`);
      assert.equal(res.status, 200);
      const samples = parsePrometheus(res.text);
      for (const stage of ['decode', 'resize', 'normalize', 'inference', 'total']) {
        const count = samples.find((s) => s.name === 'preprocessing_duration_seconds_count' && s.labels.stage === stage);
        assert.ok(count && count.value >= 1, `preprocessing_duration_seconds_count{stage="${stage}"}`);
      }
      const ok = samples.find(
        (s) => s.name === 'http_requests_total' && s.labels.method === 'POST' && s.labels.route === '/preprocessing' && s.labels.status_code === '200',
      );
      assert.ok(ok && ok.value >= 1, 'http_requests_total for POST /preprocessing 200');
    });

    it('answers GET / with its status and links', async () => {
      const res = await request(`${edge.url}/`);
      assert.equal(res.status, 200);
      assert.equal(res.json.service, 'preprocessing-edge');
      assert.equal(res.json.site, SITE);
      assert.equal(res.json.links.preprocessing, '/preprocessing');
    });
  });

  describe('bad input is a 4xx problem, never a 5xx', () => {
    it('refuses an empty body', async () => {
      assertProblem(await post(Buffer.alloc(0), 'image/png'), 400, 'empty-body');
      assertProblem(await post(undefined), 400, 'empty-body');
    });

    it('refuses other content types', async () => {
      assertProblem(await post('hello', 'text/plain'), 415, 'unsupported-media-type');
      assertProblem(await post('{"image":"x"}', 'application/json'), 415, 'unsupported-media-type');
      // No parser at all: Fastify answers, through the shared problem filter.
      assertProblem(await post(TINY_GIF, 'image/gif'), 415, 'unsupported-media-type');
      assertProblem(await post(TINY_GIF, 'application/octet-stream'), 415, 'unsupported-media-type');
    });

    it('refuses recognised but unsupported formats, whatever the declared type', async () => {
      const gif = await gradient.clone().gif().toBuffer();
      const tiff = await gradient.clone().tiff().toBuffer();
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
      for (const [bytes, format] of [[gif, 'gif'], [TINY_GIF, 'gif'], [tiff, 'tiff'], [svg, 'svg']] as const) {
        const res = await post(bytes, 'image/png');
        assertProblem(res, 415, 'unsupported-image-format');
        assert.equal(res.json.format, format);
      }
      const res = await request(`${edge.url}/preprocessing`, { method: 'POST', body: multipart([{ field: 'image', bytes: gif, type: 'image/gif', name: 'a.gif' }]) });
      assertProblem(res, 415, 'unsupported-image-format');
    });

    it('refuses bytes that do not decode', async () => {
      const noisy = await rawImage(256, 256, () => [Math.random() * 256, Math.random() * 256, Math.random() * 256]).jpeg().toBuffer();
      const truncated = noisy.subarray(0, noisy.length >> 1);
      const png = await gradient.clone().png().toBuffer();
      const brokenPng = Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 0x5a)]);
      for (const [bytes, type] of [[truncated, 'image/jpeg'], [brokenPng, 'image/png'], [Buffer.from('not an image at all'), 'image/jpeg'], [Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg']] as const) {
        assertProblem(await post(bytes, type), 422, 'invalid-image');
      }
    });

    it('refuses a decompression bomb before decoding it', async () => {
      const bomb = pngBomb(20_000, 20_000);
      assert.ok(bomb.length < 100_000);
      const started = Date.now();
      const res = await post(bomb, 'image/png');
      assertProblem(res, 422, 'image-too-large');
      assert.match(res.json.detail, /20000x20000 \(400\.0 megapixels\); the limit is 40 megapixels/);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    });

    it('refuses multipart bodies without exactly one file', async () => {
      const png = await gradient.clone().png().toBuffer();
      const file = { field: 'image', bytes: png, type: 'image/png', name: 'a.png' };
      const post = (body: Body, headers: Record<string, string> = {}) => request(`${edge.url}/preprocessing`, { method: 'POST', body, headers });
      assertProblem(await post(multipart([], { image: 'not a file' })), 400, 'missing-file');
      assertProblem(await post(multipart([file, { ...file, field: 'second' }])), 400, 'too-many-files');
      assertProblem(await post(multipart([file, file, file])), 400, 'too-many-files');
      assertProblem(await post(multipart([{ ...file, bytes: Buffer.alloc(0) }])), 400, 'empty-body');
      assertProblem(await post('--x\r\nnonsense', { 'content-type': 'multipart/form-data' }), 400, 'invalid-multipart');
    });

    it('keeps answering on a connection after a refused multipart body', async () => {
      // The refused body is left partly unread; the next request must not wait behind it.
      const png = await gradient.clone().png().toBuffer();
      const file = { field: 'image', bytes: png, type: 'image/png', name: 'a.png' };
      const three = await formBytes(multipart([file, file, file]));
      const one = await formBytes(multipart([file]));
      assert.deepEqual(await sendOnOneConnection(`${edge.url}/preprocessing`, [three, one, three, { body: png, contentType: 'image/png' }]), [400, 200, 400, 200]);
      const big = await formBytes(multipart([{ ...file, bytes: await noisePng(64, 64) }, file]));
      const tiny = await formBytes(multipart([{ ...file, bytes: await gradient.clone().resize(16, 16).png().toBuffer() }]));
      const bigRaw = { body: await noisePng(64, 64), contentType: 'image/png' };
      assert.deepEqual(await sendOnOneConnection(`${small.url}/preprocessing`, [big, tiny, big, bigRaw, tiny]), [413, 200, 413, 413, 200]);
    });

    it('refuses uploads over MAX_UPLOAD_BYTES, raw and multipart', async () => {
      const big = await noisePng(64, 64);
      assert.ok(big.length > 4096);
      assertProblem(await post(big, 'image/png', () => small), 413, 'payload-too-large');
      const res = await request(`${small.url}/preprocessing`, { method: 'POST', body: multipart([{ field: 'image', bytes: big, type: 'image/png', name: 'big.png' }]) });
      assertProblem(res, 413, 'payload-too-large');
      const tiny = await gradient.clone().resize(16, 16).png().toBuffer();
      assert.equal((await post(tiny, 'image/png', () => small)).status, 200);
    });

    it('counted no 5xx for any of it', async () => {
      const samples = parsePrometheus((await request(`${edge.url}/metrics`)).text);
      const fives = samples.filter((s) => s.name === 'http_requests_total' && s.labels.status_code.startsWith('5'));
      assert.deepEqual(fives, []);
      const fours = samples.filter((s) => s.name === 'http_requests_total' && s.labels.route === '/preprocessing' && s.labels.status_code.startsWith('4'));
      assert.deepEqual(fours.map((s) => s.labels.status_code).sort(), ['400', '415', '422']);
    });
  });
});
