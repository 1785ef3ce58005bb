import { ProblemException } from '@meridian/service-kit';
import sharp from 'sharp';
import { sniffImageFormat, SupportedFormat } from './image-format';
import { INPUT_SIZE } from './tensor';

// Every upload is a different image: libvips' operation cache would only hold memory.
sharp.cache(false);

export interface DecodedImage {
  format: SupportedFormat;
  /** Size after EXIF orientation was applied. */
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGB + alpha), 8 bits each, sRGB. */
  channels: 1 | 2 | 3 | 4;
  orientation?: number;
  pixels: Buffer;
}

export interface ResizedImage {
  width: number;
  height: number;
  /** Interleaved RGB, 8 bits each. */
  rgb: Buffer;
}

const MEGAPIXEL = 1_000_000;

function decodeFailure(err: unknown, maxPixels: number): ProblemException {
  const message = err instanceof Error ? err.message.split('\n')[0].slice(0, 200) : 'unknown error';
  if (/pixel limit/i.test(message)) {
    return new ProblemException(422, `the image has more than ${maxPixels / MEGAPIXEL} megapixels`, 'image-too-large', { maxPixels });
  }
  return new ProblemException(422, `the image could not be decoded: ${message}`, 'invalid-image');
}

/**
 * Decode stage: identify the format from the bytes, read the header, refuse decompression bombs
 * before any pixel is decoded, then decode to 8-bit sRGB with the EXIF orientation applied.
 */
export async function decodeImage(bytes: Buffer, maxPixels: number): Promise<DecodedImage> {
  const sniffed = sniffImageFormat(bytes);
  if (sniffed.kind === 'unsupported') {
    throw new ProblemException(415, `${sniffed.format.toUpperCase()} images are not supported; send JPEG, PNG or WebP`, 'unsupported-image-format', {
      format: sniffed.format,
    });
  }
  if (sniffed.kind === 'unknown') {
    throw new ProblemException(422, 'the body is not a JPEG, PNG or WebP image', 'invalid-image');
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeFailure(err, maxPixels);
  }
  if (meta.format !== sniffed.format || !meta.width || !meta.height) {
    throw new ProblemException(422, `the image could not be decoded: unreadable ${sniffed.format.toUpperCase()} header`, 'invalid-image');
  }
  const pixels = meta.width * meta.height;
  if (pixels > maxPixels) {
    throw new ProblemException(
      422,
      `the image is ${meta.width}x${meta.height} (${(pixels / MEGAPIXEL).toFixed(1)} megapixels); the limit is ${maxPixels / MEGAPIXEL} megapixels`,
      'image-too-large',
      { width: meta.width, height: meta.height, maxPixels },
    );
  }
  try {
    // failOn 'error' rejects truncated and corrupt data but tolerates benign decoder warnings.
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .rotate()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      format: sniffed.format,
      width: info.width,
      height: info.height,
      channels: info.channels,
      orientation: meta.orientation,
      pixels: data,
    };
  } catch (err) {
    throw decodeFailure(err, maxPixels);
  }
}

/** Resize stage: centre crop to cover 224x224, drop alpha, 8-bit sRGB, interleaved RGB. */
export async function resizeToInput(image: DecodedImage): Promise<ResizedImage> {
  const { data, info } = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } })
    .resize(INPUT_SIZE, INPUT_SIZE, { fit: 'cover', position: 'centre' })
    .removeAlpha()
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== INPUT_SIZE || info.height !== INPUT_SIZE || info.channels !== 3) {
    throw new Error(`resize produced ${info.width}x${info.height}x${info.channels}, expected ${INPUT_SIZE}x${INPUT_SIZE}x3`);
  }
  return { width: info.width, height: info.height, rgb: data };
}
