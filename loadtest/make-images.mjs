// @ts-check
// Makes the images the load test sends through the edge: one JPEG, PNG and WebP each, real encoded
// files of different sizes (so the edge decodes and resizes for real), drawn here rather than
// committed. Deterministic: the same bytes on every machine. Usage: node loadtest/make-images.mjs [dir]
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** A landscape-like scene: sky gradient, a sun, hills and seeded grain, as raw RGB. */
function scene(width, height, seed) {
  const rgb = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const sun = { x: width * 0.72, y: height * 0.28, r: Math.min(width, height) * 0.12 };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const t = y / height;
      let r = 90 + 110 * t, g = 150 + 60 * t, b = 235 - 40 * t;
      if ((x - sun.x) ** 2 + (y - sun.y) ** 2 < sun.r ** 2) [r, g, b] = [255, 214, 90];
      const hill = height * (0.62 + 0.08 * Math.sin((x / width) * 6.3 + seed) + 0.04 * Math.sin((x / width) * 17));
      if (y > hill) [r, g, b] = [40 + 60 * t, 110 + 50 * Math.sin(x / 9), 50];
      const grain = (rand() - 0.5) * 24;
      rgb[i] = Math.max(0, Math.min(255, r + grain));
      rgb[i + 1] = Math.max(0, Math.min(255, g + grain));
      rgb[i + 2] = Math.max(0, Math.min(255, b + grain));
    }
  }
  return sharp(rgb, { raw: { width, height, channels: 3 } });
}

export const IMAGES = [
  { name: 'photo.jpg', width: 640, height: 480, encode: (/** @type {import('sharp').Sharp} */ i) => i.jpeg({ quality: 80 }) },
  { name: 'photo.png', width: 300, height: 300, encode: (/** @type {import('sharp').Sharp} */ i) => i.png({ compressionLevel: 9 }) },
  { name: 'photo.webp', width: 512, height: 384, encode: (/** @type {import('sharp').Sharp} */ i) => i.webp({ quality: 75 }) },
];

export async function makeImages(dir = path.join(HERE, 'images')) {
  mkdirSync(dir, { recursive: true });
  const made = [];
  for (const [n, img] of IMAGES.entries()) {
    const file = path.join(dir, img.name);
    const info = await img.encode(scene(img.width, img.height, 7 + n)).toFile(file);
    made.push({ file, bytes: info.size, width: info.width, height: info.height, format: info.format });
  }
  return made;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const m of await makeImages(process.argv[2] ? path.resolve(process.argv[2]) : undefined)) {
    process.stdout.write(`${path.relative(process.cwd(), m.file)}: ${m.format} ${m.width}x${m.height}, ${m.bytes} bytes\n`);
  }
}
