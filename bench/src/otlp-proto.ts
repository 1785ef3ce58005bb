/**
 * A minimal protobuf encoder for OTLP trace export requests (opentelemetry/proto/collector/trace/v1
 * ExportTraceServiceRequest), enough to send realistic spans to the collector at a fixed rate
 * without a protobuf library. Field numbers are those of the OTLP .proto files.
 */
import { randomFillSync } from 'node:crypto';

class Writer {
  private parts: Buffer[] = [];
  private len = 0;

  private push(b: Buffer): void {
    this.parts.push(b);
    this.len += b.length;
  }

  varint(n: number): this {
    const bytes: number[] = [];
    while (n > 0x7f) {
      bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    bytes.push(n);
    this.push(Buffer.from(bytes));
    return this;
  }

  tag(field: number, wire: 0 | 1 | 2): this {
    return this.varint(field * 8 + wire);
  }

  bytes(field: number, b: Buffer): this {
    this.tag(field, 2).varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, Buffer.from(s, 'utf8'));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  uint(field: number, n: number): this {
    return this.tag(field, 0).varint(n);
  }

  fixed64(field: number, n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    this.tag(field, 1);
    this.push(b);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.len);
  }
}

type AttrValue = string | number;

function keyValue(key: string, value: AttrValue): Writer {
  // AnyValue: string_value = 1, int_value = 3.
  const any = typeof value === 'string' ? new Writer().string(1, value) : new Writer().uint(3, value);
  return new Writer().string(1, key).message(2, any);
}

export interface SpanSpec {
  traceId: Buffer;
  spanId: Buffer;
  parentSpanId?: Buffer;
  name: string;
  /** SPAN_KIND_SERVER = 2, SPAN_KIND_CLIENT = 3, SPAN_KIND_INTERNAL = 1. */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, AttrValue>;
}

function span(s: SpanSpec): Writer {
  const w = new Writer().bytes(1, s.traceId).bytes(2, s.spanId);
  if (s.parentSpanId) w.bytes(4, s.parentSpanId);
  w.string(5, s.name).uint(6, s.kind).fixed64(7, s.startNs).fixed64(8, s.endNs);
  for (const [k, v] of Object.entries(s.attributes)) w.message(9, keyValue(k, v));
  // Status: code = 3 (STATUS_CODE_UNSET = 0 is the default; 1 = OK).
  w.message(15, new Writer().uint(3, 0));
  return w;
}

/** One ExportTraceServiceRequest: one resource, one scope, these spans. */
export function exportRequest(resource: Record<string, AttrValue>, scope: string, spans: SpanSpec[]): Buffer {
  const res = new Writer();
  for (const [k, v] of Object.entries(resource)) res.message(1, keyValue(k, v));
  const scopeSpans = new Writer().message(1, new Writer().string(1, scope));
  for (const s of spans) scopeSpans.message(2, span(s));
  const resourceSpans = new Writer().message(1, res).message(2, scopeSpans);
  return new Writer().message(1, resourceSpans).finish();
}

/**
 * Spans shaped like service-a's `/call-service-b` traces: a server span, the Fastify handler and
 * NestJS spans inside it, and the outgoing client call; `count` spans in traces of four.
 */
export function serviceLikeSpans(count: number, nowNs: bigint): SpanSpec[] {
  const ids = Buffer.alloc(Math.ceil(count / 4) * 16 + count * 8);
  randomFillSync(ids);
  let off = 0;
  const take = (n: number) => ids.subarray(off, (off += n));
  const out: SpanSpec[] = [];
  while (out.length < count) {
    const traceId = take(16);
    const server = take(8);
    const base = { traceId, startNs: nowNs - 3_000_000n, endNs: nowNs };
    const http = {
      'http.request.method': 'GET',
      'url.path': '/call-service-b',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': 8080,
      'network.protocol.version': '1.1',
      'user_agent.original': 'bench',
    };
    const shapes: SpanSpec[] = [
      { ...base, spanId: server, name: 'GET /call-service-b', kind: 2, attributes: { ...http, 'http.route': '/call-service-b', 'http.response.status_code': 200 } },
      { ...base, spanId: take(8), parentSpanId: server, name: 'handler - AppController.callServiceB', kind: 1, attributes: { 'fastify.type': 'request-handler', 'http.route': '/call-service-b' } },
      { ...base, spanId: take(8), parentSpanId: server, name: 'AppController.callServiceB', kind: 1, attributes: { component: '@nestjs/core', 'nestjs.type': 'handler', 'nestjs.callback': 'callServiceB' } },
      { ...base, spanId: take(8), parentSpanId: server, name: 'GET', kind: 3, attributes: { 'http.request.method': 'GET', 'url.full': 'http://127.0.0.1:8081/data', 'server.address': '127.0.0.1', 'server.port': 8081, 'http.response.status_code': 200 } },
    ];
    out.push(...shapes.slice(0, count - out.length));
  }
  return out;
}

export const BENCH_RESOURCE = {
  'service.name': 'bench-span-generator',
  'service.namespace': 'meridian',
  'service.version': '0.1.0',
  'deployment.environment': 'bench',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.name': 'opentelemetry',
};
