import { context } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { PinoLogger, type Params } from 'nestjs-pino';
import type { Options as PinoHttpOptions } from 'pino-http';
// Not in nestjs-pino's index: the AsyncLocalStorage from which its PinoLogger and Logger take the
// logger of the request being handled.
import { storage, Store } from 'nestjs-pino/storage';
import { Counter, register } from 'prom-client';
import { fstatSync, writeSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import SonicBoom from 'sonic-boom';
import { isQuietPath } from './telemetry/untraced-paths';

/** Most log bytes held for a stdout that does not keep up; past it lines are dropped and counted. */
const STDOUT_BUFFER_MAX_BYTES = 4 * 1024 * 1024;

interface LogSink {
  /** `text` holds `lines` whole lines. */
  write(text: string, lines: number): void;
  flush(done: () => void): void;
}

let stdout: LogSink | undefined;

/**
 * stdout for the JSON lines, written asynchronously into a bounded buffer. pino's default writes
 * synchronously: a stdout pipe nobody reads (a stuck log shipper, `| less`) then blocks the event
 * loop, so requests hang and SIGTERM is never handled. Here a full buffer drops lines, counted in
 * log_lines_dropped_total, and a closed stdout (EPIPE) is ignored; the OTLP log export is unaffected.
 * pino is given only `write`: with a flushSync it would flush synchronously after every fatal line,
 * which spins for ever on a stdout that does not drain.
 */
export function stdoutDestination(): { write(line: string): void } {
  stdout ??= coalescing(openStdout());
  const sink = stdout;
  return { write: (line) => sink.write(line, 1) };
}

function openStdout(): LogSink {
  const dropped =
    (register.getSingleMetric('log_lines_dropped_total') as Counter | undefined) ??
    new Counter({ name: 'log_lines_dropped_total', help: 'Log lines not written because stdout did not keep up or was closed' });
  const kind = fstatSync(1);
  if (kind.isFIFO() || kind.isSocket()) {
    // A pipe gets a non-blocking libuv handle written from the event loop. Writes through the
    // thread pool would park a thread in write(2) on a full pipe, and exit waits for that thread.
    const pipe = new Socket({ fd: 1, readable: false, writable: true });
    pipe.on('error', () => dropped.inc());
    return {
      write(text, lines) {
        if (pipe.destroyed || pipe.writableLength > STDOUT_BUFFER_MAX_BYTES) dropped.inc(lines);
        else pipe.write(text);
      },
      flush(done) {
        if (pipe.destroyed || pipe.writableLength === 0) done();
        else pipe.once('drain', done);
      },
    };
  }
  // Files, terminals, /dev/null: written synchronously, as Node writes its own stdout to them. They
  // are never stuck for long, and a write through the thread pool cost more than the write itself.
  const file = new SonicBoom({ fd: 1, sync: true, maxLength: STDOUT_BUFFER_MAX_BYTES });
  file.on('drop', (text: string) => dropped.inc(lineCount(text)));
  file.on('error', () => dropped.inc());
  return { write: (text) => void file.write(text), flush: (done) => file.flush(() => done()) };
}

function lineCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** How long a line may wait for others to share its write to stdout. */
const COALESCE_MS = 10;
/** Written at once past this many bytes, whatever the wait. */
const COALESCE_MAX_BYTES = 64 * 1024;

/**
 * Lines leave in one write per COALESCE_MS (or per 64 KiB). Every write to stdout is a system call
 * that also wakes the process reading it (a log shipper, the container runtime, npm start): one
 * write per access line cost more than formatting the line. Lines still held when the process
 * exits (process.exit after /crash, a fatal error) are written synchronously then.
 */
function coalescing(sink: LogSink): LogSink {
  let pending = '';
  let lines = 0;
  let timer: NodeJS.Timeout | undefined;
  const flushPending = () => {
    clearTimeout(timer);
    timer = undefined;
    const text = pending;
    const n = lines;
    pending = '';
    lines = 0;
    if (n > 0) sink.write(text, n);
  };
  process.on('exit', () => {
    if (lines === 0) return;
    try {
      writeSync(1, pending);
    } catch {
      // stdout closed: nothing more to do on the way out.
    }
  });
  return {
    write(text, n) {
      pending += text;
      lines += n;
      if (pending.length >= COALESCE_MAX_BYTES) flushPending();
      else if (!timer) {
        timer = setTimeout(flushPending, COALESCE_MS);
        // Not a reason to stay alive: what is held at exit is written by the handler above.
        timer.unref();
      }
    },
    flush(done) {
      flushPending();
      sink.flush(done);
    },
  };
}

/** Writes out what the stdout buffer holds, waiting at most `timeoutMs` (shutdown must not hang on it). */
export function flushLogs(timeoutMs: number): Promise<void> {
  const stream = stdout;
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    stream.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** pino's options for every line: the level as a word, an ISO time, the service, and `req`/`res` reduced to what an access line needs. */
export function pinoOptions(serviceName: string, level: string): PinoHttpOptions {
  return {
    level,
    base: { service: serviceName },
    messageKey: 'msg',
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
    // The request is logged as its method and URL only, so no header (Authorization, Cookie)
    // can reach a line, and no redaction pass is needed on every line.
    serializers: {
      req: (req: { method?: string; url?: string }) => ({ method: req.method, url: req.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    // pino-http would first copy every request into pino's standard form (headers included)
    // and read every response's headers, for the two serializers above to throw away.
    wrapSerializers: false,
  };
}

/**
 * pino JSON on stdout. The pino instrumentation adds trace_id and span_id to every line written
 * inside a span, which is what lets a log backend jump from a line to its trace.
 */
export function loggerOptions(serviceName: string, level: string): Params {
  return {
    pinoHttp: [pinoOptions(serviceName, level), stdoutDestination()],
    // No middleware: requests are logged by installRequestLogging, from Fastify hooks.
    forRoutes: [],
  };
}

type RootLogger = typeof PinoLogger.root;

/**
 * nestjs-pino's per-request Store, whose child logger (the one carrying `req`) is made the first
 * time something logs inside the request. Most requests log nothing but their access line, and a
 * child per request cost more than that line. PinoLogger.assign() replaces it, as on a Store.
 */
class RequestStore {
  private child?: RootLogger;

  constructor(private readonly req: IncomingMessage) {}

  get logger(): RootLogger {
    // The root logger, made by LoggerModule from the pinoHttp options above (serializers included).
    return (this.child ??= PinoLogger.root.child({ req: this.req }));
  }

  set logger(logger: RootLogger) {
    this.child = logger;
  }

  /** Through the child if one was made (it may carry assigned fields); else `req` goes in the line itself, which prints the same. */
  info(fields: { res: ServerResponse; responseTime: number; err?: Error }, msg: string): void {
    if (this.child) this.child.info(fields, msg);
    else PinoLogger.root.info({ req: this.req, ...fields }, msg);
  }
}

/**
 * What nestjs-pino's middleware (pino-http) did per request, from a Fastify hook instead of an
 * express-style middleware run through @fastify/middie: lines written while handling a request go
 * through a child logger carrying `req`, and the request ends with one "request completed" line
 * ("request errored" with `err` for a 5xx, "request aborted" when the client went away), with `res`
 * and `responseTime` in ms, carrying the server span's trace_id and span_id. The probes, /metrics
 * and the OpenAPI document get no such line.
 */
export function installRequestLogging(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const req = request.raw;
    const res = reply.raw;
    const store = new RequestStore(req);
    const started = Date.now();
    // The context of the server span: the response's events fire in whatever context ended the
    // response (often the handler's span), and the access line belongs to the server span.
    const requestContext = context.active();
    const complete = (err?: Error) => context.with(requestContext, writeAccessLine, undefined, err);
    const writeAccessLine = (err?: Error) => {
      res.removeListener('close', complete);
      res.removeListener('finish', complete);
      res.removeListener('error', complete);
      const responseTime = Date.now() - started;
      if (err || res.statusCode >= 500) {
        store.info({ res, err: err ?? new Error(`failed with status code ${res.statusCode}`), responseTime }, 'request errored');
      } else {
        store.info({ res, responseTime }, !req.readableAborted && res.writableEnded ? 'request completed' : 'request aborted');
      }
    };
    if (!isQuietPath(req.url)) {
      res.on('close', complete);
      res.on('finish', complete);
    }
    res.on('error', complete);
    storage.run(store as unknown as Store, done);
  });
}
