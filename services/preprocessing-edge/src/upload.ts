import { mediaType, ProblemException } from '@meridian/service-kit';
import type { FastifyRequest } from 'fastify';
import type {} from '@fastify/multipart';

/** Content types accepted as a raw request body (main.ts registers a Buffer parser for them). */
export const RAW_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

export interface Upload {
  bytes: Buffer;
  /** How it arrived: the raw body's content type, or 'multipart/form-data'. */
  via: string;
  /** The type the client declared for the file (raw content type, or the part's). */
  declaredType?: string;
  fieldName?: string;
}

function emptyBody(): ProblemException {
  return new ProblemException(400, 'the request has no image: send the image bytes as the body, or one file in multipart/form-data', 'empty-body');
}

/** Reads the one image of a request, raw or multipart, enforcing the upload limits. */
export async function readUpload(req: FastifyRequest, maxBytes: number): Promise<Upload> {
  const type = mediaType(req.headers['content-type']);
  if (req.isMultipart()) return readMultipart(req, maxBytes);
  if (!type) {
    // Fastify hands bodies without a content type only when they are empty.
    throw emptyBody();
  }
  if (!RAW_IMAGE_TYPES.includes(type) || !Buffer.isBuffer(req.body)) {
    throw new ProblemException(415, `content type ${type} is not accepted; send ${RAW_IMAGE_TYPES.join(', ')} or multipart/form-data`, 'unsupported-media-type');
  }
  if (req.body.length === 0) throw emptyBody();
  return { bytes: req.body, via: type, declaredType: type };
}

function tooLarge(maxBytes: number): ProblemException {
  return new ProblemException(413, `the image is larger than ${maxBytes} bytes`, 'payload-too-large', { maxBytes });
}

/** Exactly one file part, under any field name; other text fields are ignored. */
async function readMultipart(req: FastifyRequest, maxBytes: number): Promise<Upload> {
  let upload: Upload | undefined;
  try {
    // files: 2 lets the second file arrive as a part, so it is refused as "more than one" (400)
    // rather than busboy's generic files-limit (413).
    for await (const part of req.parts({ limits: { files: 2, fileSize: maxBytes } })) {
      if (part.type !== 'file') continue;
      if (upload) {
        throw new ProblemException(400, 'send exactly one file: this request has more than one', 'too-many-files');
      }
      const bytes = await part.toBuffer();
      upload = { bytes, via: 'multipart/form-data', declaredType: part.mimetype, fieldName: part.fieldname };
    }
  } catch (err) {
    // The rest of the body is read and discarded by service-kit before the answer goes out.
    throw multipartProblem(err, maxBytes);
  }
  if (!upload) throw new ProblemException(400, 'the multipart body has no file: send the image in a file field named "image"', 'missing-file');
  if (upload.bytes.length === 0) throw emptyBody();
  return upload;
}

function multipartProblem(err: unknown, maxBytes: number): ProblemException {
  if (err instanceof ProblemException) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e?.code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge(maxBytes);
  if (e?.code === 'FST_FILES_LIMIT') return new ProblemException(400, 'send exactly one file: this request has more than one', 'too-many-files');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ProblemException(e.statusCode, e.message ?? 'invalid multipart body', 'invalid-multipart');
  }
  // busboy's parse errors (no boundary, malformed part headers, body ends early) carry no status.
  return new ProblemException(400, `the multipart body could not be read: ${e?.message?.split('\n')[0].slice(0, 200) ?? 'malformed'}`, 'invalid-multipart');
}
