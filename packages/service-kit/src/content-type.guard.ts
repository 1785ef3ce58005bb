import { CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from './problem';

const ACCEPTS = 'meridian:accepts-content-types';

/** The media type without parameters, lower case ("" when there is none): "application/json; charset=utf-8" → "application/json". */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** A route that takes a body answers 415 problem+json for any content type it does not list. */
export function AcceptsContentTypes(...types: string[]) {
  return applyDecorators(SetMetadata(ACCEPTS, types), UseGuards(ContentTypeGuard));
}

@Injectable()
export class ContentTypeGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(ctx: ExecutionContext): boolean {
    const types = this.reflector.get<string[] | undefined>(ACCEPTS, ctx.getHandler()) ?? [];
    const type = mediaType(ctx.switchToHttp().getRequest<FastifyRequest>().headers['content-type']);
    if (!types.includes(type)) {
      throw new ProblemException(
        415,
        type ? `Content type ${type} is not accepted here; use ${types.join(' or ')}.` : `A body is required, as ${types.join(' or ')}.`,
        'unsupported-media-type',
        { accepted: types },
      );
    }
    return true;
  }
}
