import http from 'node:http';
import { AddressInfo } from 'node:net';

/** A span as received over OTLP/HTTP JSON, flattened with its resource's service.name. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  status: { code?: number; message?: string };
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean; arrayValue?: { values?: AnyValue[] } };
type KeyValue = { key: string; value: AnyValue };

function value(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

/** OTLP JSON carries ids as hex; some encoders use base64. Normalise to lowercase hex. */
function hexId(id: string | undefined): string {
  if (!id) return '';
  if (/^[0-9a-fA-F]+$/.test(id) && (id.length === 32 || id.length === 16)) return id.toLowerCase();
  return Buffer.from(id, 'base64').toString('hex');
}

/**
 * A minimal OTLP/HTTP JSON trace receiver for tests (services export with
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/json). It keeps every span it is sent.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url?.startsWith('/v1/traces')) {
          try {
            this.ingest(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            res.writeHead(400).end();
            return;
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  private ingest(body: { resourceSpans?: { resource?: { attributes?: KeyValue[] }; scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }): void {
    for (const rs of body.resourceSpans ?? []) {
      const resource = attrs(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          this.spans.push({
            service: String(resource['service.name'] ?? ''),
            traceId: hexId(s.traceId as string),
            spanId: hexId(s.spanId as string),
            parentSpanId: hexId(s.parentSpanId as string),
            name: String(s.name),
            kind: Number(s.kind ?? 0),
            attributes: attrs(s.attributes as KeyValue[]),
            resource,
            status: (s.status as ReceivedSpan['status']) ?? {},
          });
        }
      }
    }
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /**
   * The spans of a trace once it is whole: every service named has sent spans, and every span's
   * parent is in the trace except the entry's, a server span whose parent is the caller's (or
   * none). A service exports its spans in batches, so its client spans can arrive before the
   * server span they run in; judging by the services alone would take a trace as whole too early.
   */
  async waitForTrace(traceId: string, services: string[], timeoutMs = 10_000): Promise<ReceivedSpan[]> {
    const SERVER = 2;
    const until = Date.now() + timeoutMs;
    for (;;) {
      const spans = this.trace(traceId);
      const seen = new Set(spans.map((s) => s.service));
      const ids = new Set(spans.map((s) => s.spanId));
      const entries = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
      const whole = entries.length === 1 && entries[0].kind === SERVER;
      if (services.every((s) => seen.has(s)) && whole) return spans;
      if (Date.now() > until) {
        const dangling = entries.map((s) => `${s.service}:${s.name}`).join(', ');
        throw new Error(`trace ${traceId}: expected the whole trace of ${services.join(', ')}; saw ${[...seen].join(', ') || 'none'}, spans without their parent: ${dangling || 'none'}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
