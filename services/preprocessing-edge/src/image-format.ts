/** Formats the pipeline decodes. Everything else is refused before sharp sees the bytes. */
export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp'] as const;
export type SupportedFormat = (typeof SUPPORTED_FORMATS)[number];

export type Sniffed = { kind: 'supported'; format: SupportedFormat } | { kind: 'unsupported'; format: string } | { kind: 'unknown' };

const startsWith = (bytes: Uint8Array, sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
const ascii = (bytes: Uint8Array, from: number, to: number) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', from, to);

/**
 * Identifies an image by its magic bytes, not by the declared content type: the declared type is
 * often wrong, and libvips can load many more formats (SVG, PDF, TIFF...) than this service should
 * ever parse from an untrusted client.
 */
export function sniffImageFormat(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'supported', format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'supported', format: 'png' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { kind: 'supported', format: 'webp' };
  const head = ascii(bytes, 0, 12);
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return { kind: 'unsupported', format: 'gif' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return { kind: 'unsupported', format: 'tiff' };
  if (head.startsWith('BM')) return { kind: 'unsupported', format: 'bmp' };
  if (head.startsWith('%PDF')) return { kind: 'unsupported', format: 'pdf' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { kind: 'unsupported', format: 'ico' };
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (brand.startsWith('avi')) return { kind: 'unsupported', format: 'avif' };
    if (/^(hei|hev|mif1|msf1)/.test(brand)) return { kind: 'unsupported', format: 'heif' };
  }
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return { kind: 'unsupported', format: 'jxl' };
  // SVG and other XML: text that opens with '<' (after an optional BOM and whitespace) and names <svg early on.
  const text = ascii(bytes, 0, Math.min(bytes.length, 1024)).replace(/^\uFEFF|^\xEF\xBB\xBF/, '').trimStart();
  if (text.startsWith('<') && /<svg[\s>]/i.test(text)) return { kind: 'unsupported', format: 'svg' };
  return { kind: 'unknown' };
}
