import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** RFC 9457 problem details. `type` is stable per kind of problem; clients may switch on it. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_PREFIX = 'urn:meridian:problem:';

const TITLES: Record<number, [slug: string, title: string]> = {
  400: ['bad-request', 'Bad request'],
  401: ['unauthorized', 'Unauthorized'],
  403: ['forbidden', 'Forbidden'],
  404: ['not-found', 'Not found'],
  405: ['method-not-allowed', 'Method not allowed'],
  406: ['not-acceptable', 'Not acceptable'],
  408: ['request-timeout', 'Request timeout'],
  413: ['payload-too-large', 'Payload too large'],
  415: ['unsupported-media-type', 'Unsupported media type'],
  422: ['unprocessable-content', 'Unprocessable content'],
  429: ['too-many-requests', 'Too many requests'],
  500: ['internal-error', 'Internal server error'],
  502: ['bad-gateway', 'Bad gateway'],
  503: ['service-unavailable', 'Service unavailable'],
  504: ['gateway-timeout', 'Gateway timeout'],
};

export function problem(status: number, detail?: string, slug?: string, extensions: Record<string, unknown> = {}): ProblemDetails {
  const [defaultSlug, title] = TITLES[status] ?? [status >= 500 ? 'internal-error' : 'bad-request', HttpStatus[status] ?? 'Error'];
  return { type: PROBLEM_TYPE_PREFIX + (slug ?? defaultSlug), title, status, ...(detail ? { detail } : {}), ...extensions };
}

/** Throw this from handlers to answer a specific problem type. */
export class ProblemException extends HttpException {
  /**
   * @param headers extra response headers, e.g. `retry-after` on a 503 (they are not part of the body)
   */
  constructor(
    status: number,
    detail: string,
    slug?: string,
    extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(problem(status, detail, slug, extensions), status);
  }
}

/** Turns whatever was thrown into problem+json. Internals and stack traces never reach the client. */
export function toProblem(err: unknown): ProblemDetails {
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse();
    if (typeof body === 'object' && body !== null && typeof (body as ProblemDetails).type === 'string' && String((body as ProblemDetails).type).startsWith(PROBLEM_TYPE_PREFIX)) {
      return body as ProblemDetails;
    }
    const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : undefined;
    return problem(status, status >= 500 ? undefined : detail);
  }
  const fastifyError = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's own client errors (body too large, bad JSON, unsupported content type).
    if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return problem(415, 'This route does not accept that content type.', 'unsupported-media-type');
    }
    return problem(fastifyError.statusCode, typeof fastifyError.message === 'string' ? fastifyError.message : undefined);
  }
  return problem(500, 'The server could not complete the request.');
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest | undefined, p: ProblemDetails): void {
  const body = request ? { ...p, instance: p.instance ?? request.url.split('?')[0] } : p;
  void reply.status(p.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const reply = ctx.getResponse<FastifyReply>();
    const request = ctx.getRequest<FastifyRequest>();
    const p = toProblem(exception);
    if (p.status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error({ err: exception }, 'unhandled error');
    }
    if (exception instanceof ProblemException) {
      for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
    }
    sendProblem(reply, request, p);
  }
}
