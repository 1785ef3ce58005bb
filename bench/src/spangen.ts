/**
 * OTLP/HTTP span generator, in its own process so its CPU is measured apart from the collector's:
 *   node dist/src/spangen.js '{"url":"http://127.0.0.1:4318/v1/traces","spansPerSecond":10000,"batch":250,"seconds":10}'
 * Sends protobuf export requests at a fixed rate (a batch every batch/spansPerSecond seconds, as an
 * SDK's batch processor would), prints one JSON line with what it sent and how it was answered.
 */
import http from 'node:http';
import { BENCH_RESOURCE, exportRequest, serviceLikeSpans } from './otlp-proto';

export interface SpanGenSpec {
  url: string;
  spansPerSecond: number;
  batch: number;
  seconds: number;
}

export interface SpanGenOutput {
  spansSent: number;
  /** Spans in requests answered 200 with no rejected spans. */
  spansAccepted: number;
  /** Spans the collector answered as rejected (partial success) or in failed requests. */
  spansFailed: number;
  requests: number;
  /** Batches not sent on time because 64 requests were already waiting (the collector fell behind). */
  batchesSkipped: number;
  spansPerSecond: number;
  generatorCores: number;
  seconds: number;
}

function varint(b: Buffer, at: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (;;) {
    const byte = b[at++];
    if (byte === undefined) return [n, at];
    n += (byte & 0x7f) * mul;
    if (byte < 0x80) return [n, at];
    mul *= 128;
  }
}

/**
 * rejected_spans of an ExportTraceServiceResponse: partial_success (field 1, a message) holds
 * rejected_spans (field 1, int64). Success often still carries an empty partial_success.
 */
export function rejectedSpans(body: Buffer): number {
  if (body.length < 2 || body[0] !== 0x0a) return 0;
  const [len, start] = varint(body, 1);
  const inner = body.subarray(start, start + len);
  return inner[0] === 0x08 ? varint(inner, 1)[0] : 0;
}

async function run(spec: SpanGenSpec): Promise<SpanGenOutput> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const target = new URL(spec.url);
  const out = { spansSent: 0, spansAccepted: 0, spansFailed: 0, requests: 0, batchesSkipped: 0 };
  let inFlight = 0;
  const send = (body: Buffer, n: number) =>
    new Promise<void>((resolve) => {
      inFlight++;
      out.requests++;
      out.spansSent += n;
      const req = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const rejected = res.statusCode === 200 ? Math.min(n, rejectedSpans(Buffer.concat(chunks))) : n;
            out.spansAccepted += n - rejected;
            out.spansFailed += rejected;
            inFlight--;
            resolve();
          });
        },
      );
      req.on('error', () => {
        out.spansFailed += n;
        inFlight--;
        resolve();
      });
      req.end(body);
    });

  const intervalMs = (spec.batch / spec.spansPerSecond) * 1000;
  const batches = Math.round((spec.seconds * 1000) / intervalMs);
  const pending: Promise<void>[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) {
    const wait = t0 + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= 64) {
      out.batchesSkipped++;
      continue;
    }
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    pending.push(send(exportRequest(BENCH_RESOURCE, 'bench', serviceLikeSpans(spec.batch, nowNs)), spec.batch));
  }
  await Promise.all(pending);
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { ...out, spansPerSecond: out.spansSent / wallS, generatorCores: (cpu.user + cpu.system) / 1e6 / wallS, seconds: wallS };
}

if (require.main === module) {
  run(JSON.parse(process.argv[2] ?? '{}') as SpanGenSpec)
    .then((o) => process.stdout.write(JSON.stringify(o) + '\n'))
    .catch((err) => {
      process.stderr.write(`spangen: ${err instanceof Error ? err.message : err}\n`);
      process.exit(1);
    });
}
