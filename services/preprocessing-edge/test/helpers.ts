import http from 'node:http';
import { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import sharp from 'sharp';

/** One request as the fake ensemble saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export const ENSEMBLE_TOP5 = [
  { index: 1, label: 'goldfish', score: 0.31 },
  { index: 207, label: 'golden retriever', score: 0.22 },
  { index: 281, label: 'tabby', score: 0.12 },
  { index: 409, label: 'analog clock', score: 0.08 },
  { index: 954, label: 'banana', score: 0.05 },
];

export const ENSEMBLE_TIMINGS = { decodeMs: 0.4, members: { 'inference-mobilenetv2': 11.5, 'inference-efficientnetb0': 17.25 }, totalMs: 18.1 };

export function ensembleAnswer(): Record<string, unknown> {
  const probabilities = Array.from({ length: 1000 }, () => 0.42 / 995);
  for (const t of ENSEMBLE_TOP5) probabilities[t.index] = t.score;
  return {
    model: 'ensemble',
    members: ['inference-mobilenetv2', 'inference-efficientnetb0'],
    untrained: true,
    probabilities,
    top5: ENSEMBLE_TOP5,
    timings: ENSEMBLE_TIMINGS,
  };
}

export type FakeMode = 'ok' | 'slow' | 'malformed' | 'error500' | 'error400' | 'not-json';

/**
 * A stand-in for inference-ensemble in these service tests: records what the edge sends to
 * POST /ensemble and answers a fixed prediction (or misbehaves, per mode).
 */
export class FakeEnsemble {
  readonly requests: SeenRequest[] = [];
  mode: FakeMode = 'ok';
  slowMs = 3000;
  healthyStatus = 200;
  private server?: http.Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/healthy') {
          res.writeHead(this.healthyStatus, { 'content-type': 'application/json' }).end('{"status":"ok"}');
          return;
        }
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        switch (this.mode) {
          case 'ok':
            return json(200, ensembleAnswer());
          case 'slow': {
            const t = setTimeout(() => {
              this.timers.delete(t);
              if (!res.destroyed) json(200, ensembleAnswer());
            }, this.slowMs);
            this.timers.add(t);
            return;
          }
          case 'malformed':
            return json(200, { ...ensembleAnswer(), probabilities: [0.5, 0.5] });
          case 'not-json':
            return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway</html>');
          case 'error500':
            return json(500, { error: 'boom' });
          case 'error400':
            return json(400, { error: 'bad tensor' });
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Polls until fn returns a truthy value, or fails after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The normalised value the edge should send for an 8-bit channel value. */
export function normalised(value: number, channel: 0 | 1 | 2): number {
  return (value / 255 - [0.485, 0.456, 0.406][channel]) / [0.229, 0.224, 0.225][channel];
}

/** width x height RGB where pixel (x, y) = pixel(x, y); the callback returns [r, g, b]. */
export function rawImage(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 3);
  }
  return sharp(data, { raw: { width, height, channels: 3 } });
}

/** Noise that does not compress, to make uploads of a given size. */
export function noisePng(width: number, height: number): Promise<Buffer> {
  return rawImage(width, height, () => [Math.random() * 256, Math.random() * 256, Math.random() * 256]).png({ compressionLevel: 0 }).toBuffer();
}

function crc32(buf: Buffer): number {
  let crc = ~0;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A decompression bomb: a valid PNG header announcing width x height RGB pixels, with one short
 * compressed row of zeros as its data. A few hundred bytes that would decode to gigabytes.
 */
export function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB, deflate, no filter method, no interlace
  const idat = zlib.deflateSync(Buffer.alloc(1 + width * 3));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A hand-made 1x1 GIF89a, for when a GIF is needed without an encoder. */
export const TINY_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

export function multipart(files: { field: string; bytes: Buffer; type: string; name: string }[], fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append(f.field, new Blob([f.bytes], { type: f.type }), f.name);
  return form;
}

/** A FormData as the bytes and content type (with its boundary) a client would send. */
export async function formBytes(form: FormData): Promise<{ body: Buffer; contentType: string }> {
  const res = new Response(form);
  return { body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? '' };
}

/**
 * Sends requests one after the other over a single keep-alive connection (when the server keeps
 * it open) and answers their statuses; fails if one gets no answer within timeoutMs.
 */
export async function sendOnOneConnection(url: string, requests: { body: Buffer; contentType: string }[], timeoutMs = 5000): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  try {
    for (const r of requests) {
      statuses.push(
        await new Promise<number>((resolve, reject) => {
          const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': r.contentType, 'content-length': r.body.length } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms after ${statuses.join(', ') || 'nothing'}`)));
          req.on('error', reject);
          req.end(r.body);
        }),
      );
    }
    return statuses;
  } finally {
    agent.destroy();
  }
}
